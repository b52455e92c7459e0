"""What happens to what the scraper read, knowing nothing of fetching or parsing (as Scrapy's item pipelines know
nothing of its spiders).

- ``item``: what the pipelines accept: the Outcome of one response (its Kind), the Article, the Capture
- ``run``: one crawl, import or reparse: its ``runs`` row, its counts, the pages it dropped; ``Run.record`` stores
  one Outcome (validate → normalise → version and store → search index) in one transaction
- ``validate``, ``normalise``, ``version``, ``store``, ``search``: the steps, one module each; ``stories``: the
  store's linking of one text's copies at several addresses
- ``schema``: ``open_archive`` (the steps: ``migrations``), and ``database_kind`` (is a file an archive?); ``lock``:
  which runs write an archive at once
- ``warc``: WARC records, written and read back; ``filekind``: what a file to import is, from its first bytes;
  ``health``: template drift; ``export``: CSV and JSON
- ``times``, ``cjk``: the archive's one spelling of a moment, and which characters are Chinese
"""
