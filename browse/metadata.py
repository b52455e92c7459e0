"""Datasette plugin: the archive's metadata, through the ``get_metadata`` hook.

Title, description, source and rights note; a description of every table and column in Chinese and English;
articles newest first with facets on source, column, year and author; label columns so that foreign keys read as
names; the crawl's frontier and the search index's tables hidden. The front page and each archive's database
page get a search box, the charts (``browse.chart``) and the Atom feed's link.

``trylast``: the search plugin (``pipelines.datasette_plugin``) declares a shorter articles entry; ours is merged
after it and wins. A metadata file given with ``-m`` still wins over both, as Datasette merges it last.
"""

from __future__ import annotations

from html import escape

from datasette import hookimpl

from .archive import archive_names

TITLE = "潮州库档案 · Chaozhou Archive"
DESCRIPTION = ("潮州库理论文章的存档：可检索、可阅读、可导出。"
               " An archive of the 潮州库's theory articles (Chaozhou, Guangdong): search, read and export them.")
SOURCE = "潮州库 · gdxk.southcn.com/cz/"
SOURCE_URL = "https://gdxk.southcn.com/cz/"
LICENSE = ("文章版权归原作者及刊发媒体所有，本存档仅供研究与学习 · Articles © their authors and publishers; "
           "archived for study and research, not relicensed")

# "中文 · English" for every table and column the schema creates (tests/test_browse_metadata.py checks).
TABLES = {
    "articles": ("文章：每个网址一行 · Articles: one row per URL", {
        "id": "编号 · Article id (stable: the search index points at it)",
        "url": "原文网址 · The page's canonical address",
        "title": "标题 · Title",
        "subtitle": "副标题 · Subtitle",
        "published_at": "发布时间 · Publication time as printed on the page (ISO 8601, China time +08:00)",
        "source_id": "来源 · The publication the article credits (sources)",
        "authors": "作者 · Authors as the byline names them (the list to query is article_authors)",
        "collection": "文库 · Collection, e.g. 潮州库",
        "column": "栏目 · Column, e.g. 理论文章、理论著作 or 大事记",
        "story_id": "同一篇 · The story: copies of this text published at other addresses share it (stories)",
        "editor": "责任编辑 · Editor in charge",
        "char_count": "字数 · Characters in the paragraphs",
        "paragraph_count": "段落数 · Number of paragraphs",
        "headings": "小标题 · Section headings (JSON array)",
        "breadcrumb": "导航路径 · The page's breadcrumb (JSON array)",
        "site": "网站 · Host the page came from",
        "extractor": "解析模板 · The template that read the page (gdxk, nfapp, southcn-founder, southcn-shtml, …)",
        "encoding": "编码 · Character encoding the page was decoded with",
        "warnings": "提示 · Fields the parser could not find (JSON array)",
        "field_rules": "字段规则 · Which rule found each field (JSON object)",
        "first_seen": "首次抓取 · Time of the earliest capture of this URL (UTC)",
        "last_seen": "最近抓取 · Time of the latest capture of this URL (UTC)",
        "content_hash": "内容哈希 · SHA-256 of title, subtitle and body: changes only when the text changes",
        "parser_version": "解析器版本 · Parser version that produced the stored text",
        "capture_id": "存档记录 · The capture (WARC record) the current text came from",
        "body": "正文 · The paragraphs, one per line",
        "gone_at": "下线时间 · When the site first answered 404/410 for it (the article is kept)",
        "gone_status": "下线状态码 · The HTTP status the site answered then",
    }),
    "stories": ("同一篇文章 · Stories: one text and its republications on other sites or addresses", {
        "id": "编号 · Story id", "title": "标题 · Title of its earliest copy",
        "published_at": "发布时间 · Publication time of its earliest copy",
        "article_count": "篇数 · How many stored articles are copies of it"}),
    "story_signatures": ("文本签名（内部）· Each article's MinHash signature, to find its copies (internal; "
                         "pipelines/stories.py)", {
        "article_id": "文章 · Article", "shingle_count": "字串数 · Distinct 5-character pieces of its body",
        "signature": "签名 · MinHash signature (128 × 32-bit; empty for a text too short to link)"}),
    "story_bands": ("签名分段（内部）· LSH band keys of the signatures: articles sharing one are compared "
                    "(internal)", {"band_key": "分段键 · Band key", "article_id": "文章 · Article"}),
    "sources": ("来源 · Sources: publications credited as 来源", {
        "id": "编号 · Source id", "name": "来源名称 · Name of the publication"}),
    "authors": ("作者 · Authors", {"id": "编号 · Author id", "name": "作者姓名 · Author's name"}),
    "article_authors": ("文章与作者 · Which authors wrote which article, in byline order", {
        "article_id": "文章 · Article", "author_id": "作者 · Author",
        "position": "署名次序 · Place in the byline (0 = first)"}),
    "images": ("图片 · Images in articles (addresses on the original site)", {
        "article_id": "文章 · Article", "position": "次序 · Order in the article (0 = first)",
        "url": "图片网址 · Image address", "caption": "图片说明 · Caption"}),
    "article_versions": ("历史版本 · Earlier texts of articles, kept when a newer capture changed them", {
        "id": "编号 · Version id", "article_id": "文章 · Article", "title": "标题 · Title then",
        "subtitle": "副标题 · Subtitle then", "body": "正文 · Body then, one paragraph per line",
        "headings": "小标题 · Section headings then (JSON array)", "content_hash": "内容哈希 · SHA-256 of that text",
        "parser_version": "解析器版本 · Parser version that read it",
        "capture_id": "存档记录 · The capture that text came from",
        "first_seen": "首次抓取 · When that text was first captured (UTC)",
        "replaced_at": "被替换时间 · When a newer capture replaced it (UTC)"}),
    "captures": ("抓取记录 · Captures: where each stored response came from (WARC file, offset, length)", {
        "id": "编号 · Capture id", "record_id": "WARC记录编号 · WARC-Record-ID (or file digest for saved pages)",
        "url": "网址 · Address fetched", "fetched_at": "抓取时间 · When it was fetched (UTC)",
        "status": "HTTP状态码 · HTTP status", "content_type": "内容类型 · Content-Type header",
        "payload_digest": "内容摘要 · WARC payload digest (sha1, base32)",
        "warc_file": "WARC文件 · WARC file (absolute, or relative to the WARC directory)",
        "warc_offset": "偏移 · Byte offset of the record in the WARC file",
        "warc_length": "长度 · Length of the record in bytes", "saved_file": "保存的网页 · Saved HTML file imported",
        "run_id": "运行 · The import or crawl that stored it"}),
    "runs": ("运行记录 · Runs: one row per crawl, import or reparse, with its counts", {
        "id": "编号 · Run id", "kind": "类型 · import, crawl or reparse", "started_at": "开始时间 · Start (UTC)",
        "finished_at": "结束时间 · End (UTC)", "status": "状态 · Outcome", "inputs": "输入 · Files or URLs (JSON)",
        "scraper_version": "程序版本 · scraper version", "parser_version": "解析器版本 · Parser version",
        "new": "新增 · New articles", "updated": "更新 · Updated articles", "unchanged": "未变 · Unchanged",
        "not_article": "非文章 · Block pages, error pages and pages with no article",
        "dropped": "丢弃 · Articles dropped by validation", "failed": "失败 · Responses that could not be read",
        "skipped": "跳过 · Records that are no page: not HTML, redirects, revisits of pages not held",
        "error": "错误 · What went wrong (one line each: damaged files, pages that failed)",
        "counts": "计数 · Every count of the run by outcome (JSON: listing pages, block pages, redirects …)"}),
    "dropped": ("未收录 · Pages that were not stored, and why", {
        "id": "编号 · Id", "run_id": "运行 · Run", "url": "网址 · Address", "capture_id": "存档记录 · Capture",
        "stage": "环节 · What the page was (block-page, error-page, no-article, failed) or validate",
        "reason": "原因 · Why"}),
    "archive_meta": ("存档信息（内部）· Facts about the archive itself (internal): the search index's version", {
        "key": "名称 · Name", "value": "值 · Value"}),
    "run_health": ("运行健康度 · Health measures of each run per collection and column (template drift)", {
        "id": "编号 · Id", "run_id": "运行 · Run", "collection": "文库 · Collection", "column": "栏目 · Column",
        "measure": "指标 · What was measured (a field's coverage)", "articles": "文章数 · Articles measured",
        "value": "本次数值 · Value in this run", "baseline": "通常数值 · Usual value in the column's history",
        "drift": "是否漂移 · 1 when the value fell sharply (template drift)", "examples": "示例 · Example URLs"}),
    "frontier": ("抓取队列（内部）· The crawl's frontier (internal)", {
        "url": "网址 · Address", "kind": "类型 · Page kind", "state": "状态 · State",
        "attempts": "尝试次数 · Attempts", "last_error": "最近错误 · Last error",
        "next_try": "下次尝试 · Next try (UTC)", "found_on": "来源页 · Page it was found on",
        "title_hint": "标题线索 · Link text", "discovered_at": "发现时间 · Discovered (UTC)",
        "discovered_run": "发现运行 · Run that first saw it",
        "fetched_at": "抓取时间 · Fetched (UTC)", "etag": "实体标签 · ETag header",
        "last_modified": "最后修改 · Last-Modified header",
        "conditional": "条件请求 · Ask with a conditional GET", "state_before": "原状态 · State before this run",
        "queued_run": "排队运行 · Run that queued it"}),
    "_sqlite_migrations": ("数据库迁移（内部）· Schema migrations applied (internal)", {
        "id": "编号 · Id", "migration_set": "迁移集 · Migration set", "name": "迁移 · Migration",
        "applied_at": "应用时间 · Applied at"}),
    "articles_fts": ("检索索引（内部）· The search index behind the search box (internal; pipelines/search.py)", {
        "title": "标题 · Title", "subtitle": "副标题 · Subtitle", "authors": "作者 · Authors", "body": "正文 · Body"}),
}
LABELS = {"articles": "title", "sources": "name", "authors": "name", "captures": "url",
          "article_versions": "title", "runs": "kind", "run_health": "measure"}
HIDDEN = ("frontier", "archive_meta", "story_signatures", "story_bands", "_sqlite_migrations", "articles_fts",
          "articles_fts_config", "articles_fts_content", "articles_fts_data", "articles_fts_docsize",
          "articles_fts_idx")
FACETS = [{"article": "collection"}, {"article": "column"}, {"article": "source_id"}, {"article": "year"},
          {"author": "id"}]


def tables_metadata() -> dict:
    tables = {}
    for name, (description, columns) in TABLES.items():
        tables[name] = {"description": description, "columns": dict(columns)}
        if name in LABELS:
            tables[name]["label_column"] = LABELS[name]
    for name in HIDDEN:
        tables.setdefault(name, {})["hidden"] = True
    tables["articles"].update(sort_desc="published_at", facets=FACETS, facet_size=20)
    return tables


def front_html(datasette, names: list[str]) -> str:
    """Search box, charts and feed link for each archive: ours, so built here and escaped here."""
    parts = [f"<p>{escape(DESCRIPTION)}</p>"]
    for name in names:
        table = datasette.urls.table(name, "articles")
        route = datasette.get_database(name).route
        charts = datasette.urls.path(f"-/chaozhou/{route}")
        search = datasette.urls.path(f"{route}/-/search")  # browse.reader_search
        heading = f"<h3>{escape(name)}</h3>" if len(names) > 1 else ""
        parts.append(
            f'{heading}<form class="chaozhou-search" action="{escape(search)}" method="get">'
            f'<label>搜索文章 · Search articles <input type="search" name="q" placeholder="党建"></label> '
            f'<button type="submit">搜索 · Search</button></form>'
            f'<p><a href="{escape(table)}">全部文章 · All articles</a> · '
            f'<a href="{escape(datasette.urls.database(name))}/search">按相关度检索 · Search by relevance</a> · '
            f'<a href="{escape(table)}.atom">订阅 · Atom feed</a> · '
            f'<a href="{escape(datasette.urls.path("-/coverage"))}">字段覆盖 · Field coverage</a></p>'
            f'<figure class="chaozhou-chart"><img src="{escape(charts)}/per-month.svg" width="960" height="240" '
            f'alt="每月文章数 · Articles per month"><figcaption>每月文章数 · Articles per month '
            f'(<a href="{escape(datasette.urls.database(name))}/articles_per_month">数据 · data</a>)</figcaption>'
            f'</figure><figure class="chaozhou-chart"><img src="{escape(charts)}/per-column.svg" width="960" '
            f'alt="各栏目文章数 · Articles per column"><figcaption>各栏目文章数 · Articles per column</figcaption>'
            f'</figure>')
    return "".join(parts)


@hookimpl(trylast=True)
def get_metadata(datasette, key, database, table):
    names = archive_names(datasette)
    if not names:
        return {}
    archive = {"title": TITLE, "source": SOURCE, "source_url": SOURCE_URL, "license": LICENSE}
    databases = {name: {**archive, "description_html": front_html(datasette, [name]),
                        "tables": tables_metadata()} for name in names}
    return {**archive, "description_html": front_html(datasette, names), "databases": databases}
