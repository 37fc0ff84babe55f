-- Stored tables, as the loader wrote them: no joins, no labels.  Each source placeholder becomes the
-- explicit, absolute file list of one Delta table version (never a glob: files of other versions
-- and of a killed writer must stay invisible), or a typed empty relation while a table has no
-- files.  Use these directly only for speed; the views further down are the public interface.

CREATE OR REPLACE VIEW stored_reports AS SELECT * FROM {{source:reports}};

CREATE OR REPLACE VIEW stored_facts AS SELECT * FROM {{source:facts}};

CREATE OR REPLACE VIEW stored_checks AS SELECT * FROM {{source:checks}};

-- One row per report, one DOUBLE column per catalogue code (requests.granted.total →
-- requests__granted__total): a pivot of the facts materialised at load time.
CREATE OR REPLACE VIEW stored_report_values AS SELECT * FROM {{source:report_values}};

-- Append-only logs other flows write (Delta tables, latest version): the crawler's documents (one row per
-- fetch, so a URL fetched on several nights has several rows), the nightly flow's
-- extractions (one row per document extraction tried: `outcome` is `report` or the reason it
-- is not one, e.g. limit:time, not_a_report, unsupported:ofd), runs (one row per run) and
-- portal_runs (one row per portal per run).
CREATE OR REPLACE VIEW extractions AS SELECT * FROM {{source:extractions}};

-- Each fetch with what became of its body at the latest extraction of that snapshot.
CREATE OR REPLACE VIEW documents AS
SELECT d.*, x.outcome AS extraction, x.error AS extraction_error,
       x.parser_version AS extraction_version
FROM {{source:documents}} AS d
LEFT JOIN (
    SELECT url, sha256, outcome, error, parser_version FROM extractions
    QUALIFY row_number() OVER (PARTITION BY url, sha256 ORDER BY extracted_at DESC) = 1
) AS x ON x.url = d.url AND x.sha256 = d.sha256;

CREATE OR REPLACE VIEW runs AS SELECT * FROM {{source:runs}};

CREATE OR REPLACE VIEW portal_runs AS SELECT * FROM {{source:portal_runs}};

-- Which warehouse version (a version of the Delta table reports) and data directory these views
-- were rendered for.
CREATE OR REPLACE VIEW warehouse_info AS SELECT {{info}};

-- Every warehouse version, newest first: when it was committed, what did it (load, optimize,
-- restore …), how many report rows it wrote, and the version of facts it goes with.  Read an
-- older one with `nianbao sql --as-of VERSION` or connect(data, as_of=VERSION).
CREATE OR REPLACE VIEW warehouse_versions AS SELECT * FROM {{versions}};
