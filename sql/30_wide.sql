-- requests: one row per report × item, one column per applicant type (catalogue codes;
-- "natural" must be quoted in SQL).  org = the five 法人或其他组织 columns summed (NULL if any
-- is blank).
CREATE OR REPLACE VIEW requests_wide AS
WITH p AS (
    SELECT report_id, year, format, item,
           {{pivot:requests}}
    FROM stored_facts
    WHERE "table" = 'requests'
    GROUP BY report_id, year, format, item
)
SELECT p.report_id, p.year, r.agency, r.level, r.region_code, r.province_code, p.format,
       r.passes_checks, l.item_position, p.item, l.item_zh, l.item_en, l.parent,
       p.* EXCLUDE (report_id, year, format, item),
       p.commercial + p.research + p.ngo + p.legal_service + p.other_org AS org
FROM p
JOIN reports AS r USING (report_id)
LEFT JOIN (
    SELECT DISTINCT format, item, item_position, item_zh, item_en, parent
    FROM cell_labels
    WHERE "table" = 'requests'
) AS l ON l.format = p.format AND l.item = p.item;

-- appeals: one row per report with standard tables, the 15 cells as <item>_<column>.
CREATE OR REPLACE VIEW appeals_wide AS
SELECT r.report_id, r.year, r.agency, r.level, r.region_code, r.province_code, r.format,
       r.passes_checks,
       {{wide:appeals}}
FROM reports AS r
JOIN stored_report_values AS v USING (report_id)
WHERE r.format IS NOT NULL;

-- active: one row per report with standard tables; the cells of both formats as
-- <item>_<column> (a format's cells only are filled: see cells.formats).
CREATE OR REPLACE VIEW active_wide AS
SELECT r.report_id, r.year, r.agency, r.level, r.region_code, r.province_code, r.format,
       r.passes_checks,
       {{wide:active}}
FROM reports AS r
JOIN stored_report_values AS v USING (report_id)
WHERE r.format IS NOT NULL;
