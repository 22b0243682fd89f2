"""The HTML run report of a case or a batch (``c2v report PATH``)."""
