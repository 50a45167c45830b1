"""Root conftest: loads the claims plugin, which collects ``cases/*.yaml`` as test items."""
pytest_plugins = ["redshift.claims.plugin"]
