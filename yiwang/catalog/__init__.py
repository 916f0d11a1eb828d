"""数据资源目录 the data catalogue: datasets, versions, ingest, quality, sensitive-field detection."""
