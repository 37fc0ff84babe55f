-- The cell catalogue (transform/catalogue.py), inlined so the .duckdb file describes itself.

-- Codebook: one row per code across both formats, with Chinese and English labels.
CREATE OR REPLACE VIEW cells AS
SELECT "table", item, "column", code,
       item_zh, column_zh, item_en, column_en, table_en,
       NULLIF(parent, '') AS parent, NULLIF(parent_zh, '') AS parent_zh,
       unit, string_split(formats, ',') AS formats
FROM {{values:codebook}};

-- The same cells per format, with the label each format prints and the printed order.
CREATE OR REPLACE VIEW cell_labels AS
SELECT * FROM {{values:cell_labels}};
