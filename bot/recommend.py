"""The recommender."""


class Recommender:
    def __init__(self, catalog):
        self.catalog = catalog
