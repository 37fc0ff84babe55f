-- The cells and checks of every report, with the report columns needed for slicing.

-- Long format: one row per cell, with the report columns needed for slicing (is_copy: the
-- report is a re-posted copy, see report_duplicates; the region ones
-- included: they are stored once per report, in reports), the catalogue
-- labels of the report's format, and provenance.  value is NULL when the cell held no number.
-- Filters on code, table, item and year are pushed down to the Parquet files (fast).
CREATE OR REPLACE VIEW facts AS
SELECT f.report_id, f.year, r.agency, r.agency_key, r.level, r.region_code, r.province_code, r.province,
       r.city_code, r.city, r.county_code, r.county, r.region_source, r.region_confidence,
       f.format,
       f."table", f.item, f."column", f.code,
       l.item_zh, l.column_zh, l.item_en, l.column_en, l.parent,
       f.value, f.unit, f.raw, r.passes_checks, r.is_copy,
       r.title, r.source_url, r.source, r.sha256, r.fetched_at, r.extracted_at, r.parser_version
FROM stored_facts AS f
JOIN reports AS r USING (report_id)
LEFT JOIN cell_labels AS l
       ON l.format = f.format AND l."table" = f."table" AND l.item = f.item AND l."column" = f."column";

-- Every check of every report.  ok: TRUE passed, FALSE failed, NULL skipped (an operand was
-- blank).  name = family.scope, e.g. requests_balance.natural.
CREATE OR REPLACE VIEW checks AS
SELECT c.report_id, r.year, r.agency, r.agency_key, r.title, r.format,
       c.name,
       split_part(c.name, '.', 1) AS family,
       CASE WHEN strpos(c.name, '.') > 0 THEN substr(c.name, strpos(c.name, '.') + 1) END AS scope,
       c.ok,
       CASE WHEN c.ok THEN 'passed' WHEN NOT c.ok THEN 'failed' ELSE 'skipped' END AS status,
       c.detail, r.source_url, r.source
FROM stored_checks AS c
JOIN reports AS r USING (report_id);

CREATE OR REPLACE VIEW check_failures AS
SELECT report_id, year, agency, title, format, name, family, scope, detail, source_url, source
FROM checks
WHERE ok = FALSE;
