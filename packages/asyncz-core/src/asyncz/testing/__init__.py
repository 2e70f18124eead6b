"""Testing tools shipped for store authors.

``StoreConformance`` is the store contract as a pytest test class: subclass it, provide a
``store_factory`` fixture, and your store runs the same checks as every built-in store::

    from asyncz.testing import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store_factory(self, tmp_path):
            return lambda **options: MyStore(path=tmp_path, **options)
"""

from asyncz.testing.conformance import StoreConformance, StoreHarness

__all__ = ["StoreConformance", "StoreHarness"]
