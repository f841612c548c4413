-- De-identification (DESIGN §6): masks, keyed pseudonyms and date shifts,
-- generalisation, the SECURITY LABEL provider "ehr" (registered by the library,
-- see src/deid.c) and the analysts' datasets in schema ehr_deid.

-- ---------------------------------------------------------------------------
-- Keyless functions: IMMUTABLE, for everyone.
-- ---------------------------------------------------------------------------
CREATE FUNCTION ehr.mask(value text, keep_left integer, keep_right integer, fill text DEFAULT '*')
    RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_mask'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.mask(text, integer, integer, text) IS
    'Keep keep_left and keep_right characters of value, one fill per character between; shorter values are masked entirely';

CREATE FUNCTION ehr.mask_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_mask_name'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.mask_name(text) IS
    'Mask a personal name, keeping the surname (compound surnames included): 张* / 李*明 / 欧阳*娜 / 阿***·*** / J*** S****';

CREATE FUNCTION ehr.mask_phone(phone text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_mask_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.mask_phone(text) IS
    'Mask a phone number: mobile 138****5678, landline 0931-***5432, otherwise all digits but the last 4';

CREATE FUNCTION ehr.age_band(birth date, at date, width integer DEFAULT 5) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_age_band'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.age_band(date, date, integer) IS
    'Age at "at" in bands of width years (1..50): ''40-44''; 90 and over top-coded as ''90+''';

CREATE FUNCTION ehr.age_band(resident ehr.resident_id, at date, width integer DEFAULT 5) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_age_band_resident'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.age_band(ehr.resident_id, date, integer) IS
    'Age band of the birth date encoded in a resident ID';

CREATE FUNCTION ehr.mask_id(id ehr.resident_id) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_mask_id'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.mask_id(ehr.resident_id) IS
    'Resident ID with its first 3 and last 4 characters kept: 110***********002X';

CREATE FUNCTION ehr.generalize_region(code text, level text) RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_generalize_region'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.generalize_region(text, text) IS
    'GB/T 2260 region code cut to its province (620000) or city (620500)';

CREATE FUNCTION ehr.deid_classes(label text, coltype regtype) RETURNS text[]
    AS 'MODULE_PATHNAME', 'ehr_deid_classes'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.deid_classes(text, regtype) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deid_classes(text, regtype) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.deid_classes(text, regtype) IS
    'Check an ehr security label against a column type; the classes in canonical form, value class first';

-- ---------------------------------------------------------------------------
-- Keyed functions: the owner and ehr_admin only. An analyst who could call
-- them could compute a known person's pseudonym and look for it in a dataset.
-- STABLE: the result changes when the key is rotated.
-- ---------------------------------------------------------------------------
CREATE FUNCTION ehr.pseudonym(value text, domain text DEFAULT 'default') RETURNS text
    AS 'MODULE_PATHNAME', 'ehr_pseudonym'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.pseudonym(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.pseudonym(text, text) TO ehr_admin;
COMMENT ON FUNCTION ehr.pseudonym(text, text) IS
    'Keyed pseudonym: base32 of the first 16 bytes of HMAC-SM3(key pseudonym, domain || 0x00 || value) (owner and ehr_admin)';

-- The offset depends on ehr.date_shift_days (a GUC) and the key: STABLE.
CREATE FUNCTION ehr.shift_date(value date, resident ehr.resident_id) RETURNS date
    AS 'MODULE_PATHNAME', 'ehr_shift_date'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.shift_date(date, ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.shift_date(date, ehr.resident_id) TO ehr_admin;
COMMENT ON FUNCTION ehr.shift_date(date, ehr.resident_id) IS
    'Date moved by the resident''s keyed offset in [-ehr.date_shift_days, +ehr.date_shift_days] days (owner and ehr_admin)';

CREATE FUNCTION ehr.shift_date(value timestamptz, resident ehr.resident_id) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'ehr_shift_timestamp'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.shift_date(timestamptz, ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.shift_date(timestamptz, ehr.resident_id) TO ehr_admin;
COMMENT ON FUNCTION ehr.shift_date(timestamptz, ehr.resident_id) IS
    'Timestamp moved by the resident''s keyed offset, in 24-hour days (owner and ehr_admin)';

CREATE FUNCTION ehr.shift_date(value timestamp, resident ehr.resident_id) RETURNS timestamp
    AS 'MODULE_PATHNAME', 'ehr_shift_timestamp'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION ehr.shift_date(timestamp, ehr.resident_id) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.shift_date(timestamp, ehr.resident_id) TO ehr_admin;
COMMENT ON FUNCTION ehr.shift_date(timestamp, ehr.resident_id) IS
    'Timestamp without time zone moved by the resident''s keyed offset (owner and ehr_admin)';

-- ---------------------------------------------------------------------------
-- The datasets.
-- ---------------------------------------------------------------------------
CREATE SCHEMA ehr_deid;
COMMENT ON SCHEMA ehr_deid IS 'De-identified datasets built by ehr.deidentify(); readable by ehr_analyst and ehr_admin only';
REVOKE ALL ON SCHEMA ehr_deid FROM PUBLIC;
GRANT USAGE ON SCHEMA ehr_deid TO ehr_analyst, ehr_admin;

CREATE TABLE ehr.deid_dataset (
    source            regclass PRIMARY KEY,
    dataset           name NOT NULL UNIQUE,
    k                 integer NOT NULL DEFAULT 0 CHECK (k OPERATOR(pg_catalog.>=) 0),
    live              boolean NOT NULL DEFAULT false,
    quasi_identifiers name[] NOT NULL DEFAULT '{}',
    built_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    refreshed_at      timestamptz
);
REVOKE ALL ON ehr.deid_dataset FROM PUBLIC;
GRANT SELECT ON ehr.deid_dataset TO ehr_admin;
COMMENT ON TABLE ehr.deid_dataset IS 'Datasets built by ehr.deidentify(): one per source relation';
COMMENT ON COLUMN ehr.deid_dataset.source IS 'The labelled relation the dataset is built from';
COMMENT ON COLUMN ehr.deid_dataset.dataset IS 'Name of the dataset in schema ehr_deid';
COMMENT ON COLUMN ehr.deid_dataset.k IS 'Rows whose quasi-identifier class holds fewer than k rows are suppressed (0: none)';
COMMENT ON COLUMN ehr.deid_dataset.live IS 'true: a security-barrier view; false: a materialized view';
COMMENT ON COLUMN ehr.deid_dataset.quasi_identifiers IS 'The generalised dataset columns that k applies to';
COMMENT ON COLUMN ehr.deid_dataset.built_at IS 'When ehr.deidentify() last built the dataset';
COMMENT ON COLUMN ehr.deid_dataset.refreshed_at IS 'When ehr.refresh_deidentified() last refreshed it';
SELECT pg_catalog.pg_extension_config_dump('ehr.deid_dataset', '');

-- The subject column of a labelled relation (see ehr.deid_columns), or NULL.
CREATE FUNCTION ehr.deid_subject(source regclass) RETURNS name
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT att.attname
      FROM pg_catalog.pg_attribute att
      LEFT JOIN pg_catalog.pg_seclabel l
             ON l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
            AND l.objoid OPERATOR(pg_catalog.=) att.attrelid
            AND l.objsubid OPERATOR(pg_catalog.=) att.attnum
            AND l.provider OPERATOR(pg_catalog.=) 'ehr'
     WHERE att.attrelid OPERATOR(pg_catalog.=) source
       AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped
       AND att.atttypid OPERATOR(pg_catalog.=) pg_catalog.to_regtype('ehr.resident_id')
     ORDER BY (l.label IS NOT NULL
               AND (ehr.deid_classes(l.label, att.atttypid))[1] OPERATOR(pg_catalog.~~) 'pseudonymize:%') DESC,
              att.attnum
     LIMIT 1
$$;
REVOKE ALL ON FUNCTION ehr.deid_subject(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deid_subject(regclass) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.deid_subject(regclass) IS
    'The row''s subject of a labelled relation: its first resident_id column labelled pseudonymize, else its first resident_id column';

-- The plan of a dataset: one row per source column (withheld ones with a NULL
-- dataset_column) and one per derived column. The one place that turns labels
-- into SQL; every name goes through %I and every literal through %L.
CREATE FUNCTION ehr.deid_columns(source regclass)
    RETURNS TABLE (source_column name, label text, class text, dataset_column name,
                   expression text, quasi_identifier boolean, keyed boolean)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $deid_columns$
DECLARE
    rid      oid := pg_catalog.to_regtype('ehr.resident_id');
    subject  name;
    a        record;
    cls      text[];
    v        text;
    c        text;
    i        integer;
BEGIN
    subject := ehr.deid_subject(source);

    FOR a IN
        SELECT att.attname, att.atttypid, l.label
          FROM pg_catalog.pg_attribute att
          LEFT JOIN pg_catalog.pg_seclabel l
                 ON l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                AND l.objoid OPERATOR(pg_catalog.=) att.attrelid
                AND l.objsubid OPERATOR(pg_catalog.=) att.attnum
                AND l.provider OPERATOR(pg_catalog.=) 'ehr'
         WHERE att.attrelid OPERATOR(pg_catalog.=) source
           AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped
         ORDER BY att.attnum
    LOOP
        source_column := a.attname;
        label := a.label;
        IF a.label IS NULL THEN
            class := 'withhold';
            dataset_column := NULL; expression := NULL;
            quasi_identifier := false; keyed := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        cls := ehr.deid_classes(a.label, a.atttypid);
        v := cls[1];
        class := v;
        dataset_column := a.attname;
        quasi_identifier := false;
        keyed := false;
        IF v OPERATOR(pg_catalog.=) 'withhold' THEN
            dataset_column := NULL; expression := NULL;
        ELSIF v OPERATOR(pg_catalog.=) 'keep' THEN
            expression := pg_catalog.format('s.%I', a.attname);
        ELSIF v OPERATOR(pg_catalog.~~) 'pseudonymize:%' THEN
            -- COLLATE "C": pseudonyms are ASCII, and the unique index that makes the
            -- dataset refreshable concurrently builds and compares them bytewise.
            expression := pg_catalog.format('ehr.pseudonym(s.%I::pg_catalog.text, %L) COLLATE pg_catalog."C"', a.attname,
                                            pg_catalog.substr(v, 14));
            keyed := true;
        ELSIF v OPERATOR(pg_catalog.=) 'shift_date' THEN
            IF subject IS NULL THEN
                RAISE EXCEPTION 'column % of % cannot be shifted: the relation has no ehr.resident_id column',
                                pg_catalog.quote_ident(a.attname), source
                      USING ERRCODE = 'invalid_parameter_value',
                            DETAIL = 'Class "shift_date" shifts every date of a resident by the same keyed offset, so each row needs its subject.';
            END IF;
            expression := pg_catalog.format('ehr.shift_date(s.%I, s.%I)', a.attname, subject);
            keyed := true;
        ELSIF v OPERATOR(pg_catalog.=) 'year' THEN
            expression := pg_catalog.format('pg_catalog.date_part(%L, s.%I)::pg_catalog.int4', 'year', a.attname);
            quasi_identifier := true;
        ELSIF v OPERATOR(pg_catalog.=) 'age_band' THEN
            expression := pg_catalog.format('ehr.age_band(s.%I::pg_catalog.date, CURRENT_DATE)', a.attname);
            quasi_identifier := true;
        ELSIF v OPERATOR(pg_catalog.~~) 'region:%' THEN
            expression := pg_catalog.format('ehr.generalize_region(s.%I::pg_catalog.text, %L)', a.attname,
                                            pg_catalog.substr(v, 8));
            quasi_identifier := true;
        ELSIF v OPERATOR(pg_catalog.=) 'mask:name' THEN
            expression := pg_catalog.format('ehr.mask_name(s.%I::pg_catalog.text)', a.attname);
        ELSIF v OPERATOR(pg_catalog.=) 'mask:phone' THEN
            expression := pg_catalog.format('ehr.mask_phone(s.%I::pg_catalog.text)', a.attname);
        ELSIF v OPERATOR(pg_catalog.=) 'mask:id' THEN
            IF a.atttypid OPERATOR(pg_catalog.=) rid THEN
                expression := pg_catalog.format('ehr.mask_id(s.%I)', a.attname);
            ELSE
                expression := pg_catalog.format('ehr.mask(s.%I::pg_catalog.text, 3, 4)', a.attname);
            END IF;
        ELSE
            RAISE EXCEPTION 'unhandled de-identification class "%"', v;  -- deid_classes and this list disagree
        END IF;
        RETURN NEXT;

        -- derived columns of a resident_id: <col>_age_band, <col>_sex, <col>_region
        FOR i IN 2 .. pg_catalog.array_length(cls, 1) LOOP
            c := cls[i];
            class := c;
            quasi_identifier := true;
            keyed := false;
            IF c OPERATOR(pg_catalog.=) 'age_band' THEN
                dataset_column := a.attname::pg_catalog.text OPERATOR(pg_catalog.||) '_age_band';
                expression := pg_catalog.format('ehr.age_band(s.%I, CURRENT_DATE)', a.attname);
            ELSIF c OPERATOR(pg_catalog.=) 'sex' THEN
                dataset_column := a.attname::pg_catalog.text OPERATOR(pg_catalog.||) '_sex';
                expression := pg_catalog.format('ehr.sex(s.%I)', a.attname);
            ELSE
                dataset_column := a.attname::pg_catalog.text OPERATOR(pg_catalog.||) '_region';
                expression := pg_catalog.format('ehr.generalize_region(ehr.region_code(s.%I), %L)',
                                                a.attname, pg_catalog.substr(c, 8));
            END IF;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$deid_columns$;
REVOKE ALL ON FUNCTION ehr.deid_columns(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deid_columns(regclass) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.deid_columns(regclass) IS
    'What ehr.deidentify() makes of each column of a labelled relation: class, dataset column, SQL expression';

CREATE FUNCTION ehr.deidentify(source regclass, k integer DEFAULT 0, live boolean DEFAULT false)
    RETURNS regclass
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $deidentify$
#variable_conflict use_variable
DECLARE
    src_nsp   name;
    src_name  name;
    relkind   "char";
    subject   name;
    plan      record;
    cols      text := '';
    outer_cols text := '';
    qi        name[] := '{}';
    keyed_cols text[] := '{}';
    unlabelled text[] := '{}';
    seen      name[] := '{}';
    pk_cols   name[];
    pk_ok     boolean := true;
    body      text;
    filter    text := '';
    existing  "char";
    other     regclass;
    result    regclass;
BEGIN
    IF k OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'k must not be negative: %', k
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'k is the smallest number of rows a class of quasi-identifiers may hold; 0 suppresses nothing.';
    END IF;
    SELECT n.nspname, c.relname, c.relkind INTO src_nsp, src_name, relkind
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) source;
    IF relkind OPERATOR(pg_catalog.<>) ALL (ARRAY['r', 'p', 'v', 'm', 'f']::"char"[]) THEN
        RAISE EXCEPTION '% is not a table, view or foreign table', source
              USING ERRCODE = 'wrong_object_type';
    END IF;
    -- The dataset's query runs as this function's owner. Reading a table runs no
    -- code of its owner's; reading a view or foreign table can (a function in the
    -- view, the owner's user mapping), so those must belong to a superuser.
    IF relkind OPERATOR(pg_catalog.=) ANY (ARRAY['v', 'f']::"char"[])
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
                 WHERE c.oid OPERATOR(pg_catalog.=) source) THEN
        RAISE EXCEPTION 'view or foreign table % is not owned by a superuser', source
              USING ERRCODE = 'insufficient_privilege',
                    DETAIL = 'A dataset is computed with the extension owner''s rights; a view or foreign table could run its owner''s code with them.',
                    HINT = 'Build the dataset from the underlying tables, or have a superuser own the view.';
    END IF;
    IF src_nsp OPERATOR(pg_catalog.=) 'ehr_deid' THEN
        RAISE EXCEPTION '% is already a de-identified dataset', source
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'Datasets are built from labelled source relations, not from other datasets.';
    END IF;
    -- Labels are the owner's statement of what may be published: no label, no dataset.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_seclabel l
                    WHERE l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND l.objoid OPERATOR(pg_catalog.=) source
                      AND l.objsubid OPERATOR(pg_catalog.>) 0
                      AND l.provider OPERATOR(pg_catalog.=) 'ehr') THEN
        RAISE EXCEPTION 'relation % has no ehr security labels', source
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'Only labelled columns are published; unlabelled columns are withheld.',
                    HINT = 'Label columns with SECURITY LABEL FOR ehr ON COLUMN table.column IS ''keep'' (or another class).';
    END IF;

    subject := ehr.deid_subject(source);
    FOR plan IN SELECT * FROM ehr.deid_columns(source) LOOP
        IF plan.label IS NULL THEN
            unlabelled := unlabelled OPERATOR(pg_catalog.||) plan.source_column::pg_catalog.text;
        END IF;
        CONTINUE WHEN plan.dataset_column IS NULL;
        IF plan.dataset_column OPERATOR(pg_catalog.=) ANY (seen) THEN
            RAISE EXCEPTION 'dataset of % would have two columns named %', source, pg_catalog.quote_ident(plan.dataset_column)
                  USING ERRCODE = 'duplicate_column',
                        DETAIL = 'A derived column (<column>_age_band, _sex, _region) has the name of another published column.';
        END IF;
        seen := seen OPERATOR(pg_catalog.||) plan.dataset_column;
        cols := cols OPERATOR(pg_catalog.||) CASE WHEN cols OPERATOR(pg_catalog.=) '' THEN '' ELSE ', ' END
                OPERATOR(pg_catalog.||) pg_catalog.format('%s AS %I', plan.expression, plan.dataset_column);
        outer_cols := outer_cols OPERATOR(pg_catalog.||) CASE WHEN outer_cols OPERATOR(pg_catalog.=) '' THEN '' ELSE ', ' END
                OPERATOR(pg_catalog.||) pg_catalog.format('d.%I', plan.dataset_column);
        IF plan.quasi_identifier THEN
            qi := qi OPERATOR(pg_catalog.||) plan.dataset_column;
        END IF;
        IF plan.keyed THEN
            keyed_cols := keyed_cols OPERATOR(pg_catalog.||) plan.source_column::pg_catalog.text;
        END IF;
    END LOOP;

    IF pg_catalog.cardinality(unlabelled) OPERATOR(pg_catalog.>) 0 THEN
        RAISE NOTICE 'columns of % without an ehr label are withheld: %', source,
              pg_catalog.array_to_string(unlabelled, ', ');
    END IF;
    IF cols OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'every column of % is withheld', source
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'A dataset needs at least one column labelled keep, pseudonymize or a generalising class.';
    END IF;
    IF live AND pg_catalog.cardinality(keyed_cols) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'a live dataset of % cannot use keyed functions', source
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('Columns %s are pseudonymized or date-shifted; analysts querying a live view would run the keyed functions, which only the owner and ehr_admin may execute.',
                                               pg_catalog.array_to_string(keyed_cols, ', ')),
                    HINT = 'Build a materialized dataset (live => false) and refresh it with ehr.refresh_deidentified().';
    END IF;
    IF k OPERATOR(pg_catalog.>) 0 AND pg_catalog.cardinality(qi) OPERATOR(pg_catalog.=) 0 THEN
        RAISE NOTICE 'dataset of % has no generalised columns: k = % applies to the whole dataset', source, k;
    END IF;

    -- Research opt-out (ehr.set_research_use): absent row = allowed.
    IF subject IS NOT NULL THEN
        filter := pg_catalog.format(
            ' WHERE NOT EXISTS (SELECT 1 FROM ehr.research_use r WHERE r.resident OPERATOR(ehr.=) s.%I AND NOT r.allowed)',
            subject);
    END IF;

    body := pg_catalog.format('SELECT %s FROM %I.%I AS s%s', cols, src_nsp, src_name, filter);
    IF k OPERATOR(pg_catalog.>) 0 THEN
        -- k-anonymity by suppression: drop every row of a class smaller than k.
        body := pg_catalog.format(
            'SELECT %s FROM (SELECT d0.*, pg_catalog.count(*) OVER (%s) AS "ehr k" FROM (%s) AS d0) AS d WHERE d."ehr k" OPERATOR(pg_catalog.>=) %s',
            outer_cols,
            CASE WHEN pg_catalog.cardinality(qi) OPERATOR(pg_catalog.=) 0 THEN ''
                 ELSE 'PARTITION BY ' OPERATOR(pg_catalog.||)
                      (SELECT pg_catalog.string_agg(pg_catalog.format('d0.%I', q), ', ') FROM pg_catalog.unnest(qi) AS q)
                 END,
            body, k);
    END IF;

    -- One dataset name per source: refuse to replace another source's dataset.
    SELECT d.source INTO other FROM ehr.deid_dataset d
     WHERE d.dataset OPERATOR(pg_catalog.=) src_name AND d.source OPERATOR(pg_catalog.<>) source;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'dataset ehr_deid.% already holds %', pg_catalog.quote_ident(src_name), other
              USING ERRCODE = 'duplicate_object',
                    DETAIL = 'Datasets are named after their source relation; two sources share a name.';
    END IF;

    SELECT c.relkind INTO existing FROM pg_catalog.pg_class c
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'ehr_deid'::pg_catalog.regnamespace
       AND c.relname OPERATOR(pg_catalog.=) src_name;
    IF existing OPERATOR(pg_catalog.=) 'm' THEN
        EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW ehr_deid.%I', src_name);
    ELSIF existing OPERATOR(pg_catalog.=) 'v' THEN
        EXECUTE pg_catalog.format('DROP VIEW ehr_deid.%I', src_name);
    ELSIF existing IS NOT NULL THEN
        RAISE EXCEPTION 'ehr_deid.% exists and is not a dataset', pg_catalog.quote_ident(src_name)
              USING ERRCODE = 'duplicate_object';
    END IF;

    IF live THEN
        EXECUTE pg_catalog.format('CREATE VIEW ehr_deid.%I WITH (security_barrier) AS %s', src_name, body);
    ELSE
        EXECUTE pg_catalog.format('CREATE MATERIALIZED VIEW ehr_deid.%I AS %s WITH DATA', src_name, body);
        -- A unique index allows REFRESH ... CONCURRENTLY: possible when every
        -- primary-key column is published as is or as a pseudonym.
        SELECT pg_catalog.array_agg(att.attname ORDER BY att.attnum) INTO pk_cols
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                         AND att.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])
         WHERE i.indrelid OPERATOR(pg_catalog.=) source AND i.indisprimary;
        IF pk_cols IS NOT NULL THEN
            SELECT pg_catalog.bool_and(EXISTS (
                       SELECT 1 FROM ehr.deid_columns(source) p
                        WHERE p.source_column OPERATOR(pg_catalog.=) pk.col
                          AND p.dataset_column OPERATOR(pg_catalog.=) pk.col
                          AND (p.class OPERATOR(pg_catalog.=) 'keep' OR p.class OPERATOR(pg_catalog.~~) 'pseudonymize:%')))
              INTO pk_ok
              FROM pg_catalog.unnest(pk_cols) AS pk(col);
            IF pk_ok THEN
                EXECUTE pg_catalog.format('CREATE UNIQUE INDEX ON ehr_deid.%I (%s)', src_name,
                        (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(col), ', ') FROM pg_catalog.unnest(pk_cols) AS col));
            END IF;
        END IF;
    END IF;
    result := pg_catalog.format('ehr_deid.%I', src_name)::pg_catalog.regclass;
    EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', result);
    EXECUTE pg_catalog.format('GRANT SELECT ON %s TO ehr_analyst, ehr_admin', result);
    EXECUTE pg_catalog.format('COMMENT ON %s %s IS %L', CASE WHEN live THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, result,
            pg_catalog.format('De-identified %s.%s (k = %s), built by ehr.deidentify()', src_nsp, src_name, k));
    -- each column says where it comes from and how, for analysts reading \d+
    FOR plan IN SELECT * FROM ehr.deid_columns(source) p WHERE p.dataset_column IS NOT NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', result, plan.dataset_column,
                pg_catalog.format('%s of %s.%s.%s', plan.class, src_nsp, src_name, plan.source_column));
    END LOOP;

    INSERT INTO ehr.deid_dataset AS d (source, dataset, k, live, quasi_identifiers, built_at, refreshed_at)
    VALUES (source, src_name, k, live, qi, pg_catalog.now(), CASE WHEN live THEN NULL ELSE pg_catalog.now() END)
    ON CONFLICT ON CONSTRAINT deid_dataset_pkey DO UPDATE
       SET dataset = EXCLUDED.dataset, k = EXCLUDED.k, live = EXCLUDED.live,
           quasi_identifiers = EXCLUDED.quasi_identifiers, built_at = EXCLUDED.built_at,
           refreshed_at = EXCLUDED.refreshed_at;
    RETURN result;
END
$deidentify$;
REVOKE ALL ON FUNCTION ehr.deidentify(regclass, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deidentify(regclass, integer, boolean) TO ehr_admin;
COMMENT ON FUNCTION ehr.deidentify(regclass, integer, boolean) IS
    'Build ehr_deid.<name> from a labelled relation: a materialized view (or with live, a security-barrier view without keyed columns); research opt-outs left out; k > 0 suppresses classes smaller than k (ehr_admin)';

CREATE FUNCTION ehr.refresh_deidentified(rel regclass DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $refresh$
DECLARE
    d        record;
    target   regclass;
    n        integer := 0;
    found_it boolean := false;
BEGIN
    FOR d IN SELECT * FROM ehr.deid_dataset ORDER BY dataset LOOP
        target := pg_catalog.to_regclass(pg_catalog.format('ehr_deid.%I', d.dataset));
        CONTINUE WHEN rel IS NOT NULL AND rel OPERATOR(pg_catalog.<>) d.source
                  AND (target IS NULL OR rel OPERATOR(pg_catalog.<>) target);
        found_it := true;
        CONTINUE WHEN d.live OR target IS NULL;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) target AND i.indisunique)
           AND (SELECT c.relispopulated FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) target) THEN
            EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', target);
        ELSE
            EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW %s', target);
        END IF;
        UPDATE ehr.deid_dataset SET refreshed_at = pg_catalog.now()
         WHERE source OPERATOR(pg_catalog.=) d.source;
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    IF rel IS NOT NULL AND NOT found_it THEN
        RAISE EXCEPTION '% is not a de-identified dataset or the source of one', rel
              USING ERRCODE = 'undefined_object',
                    HINT = 'Build it first with ehr.deidentify().';
    END IF;
    RETURN n;
END
$refresh$;
REVOKE ALL ON FUNCTION ehr.refresh_deidentified(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.refresh_deidentified(regclass) TO ehr_admin;
COMMENT ON FUNCTION ehr.refresh_deidentified(regclass) IS
    'Refresh one materialized dataset (given it or its source) or all of them (NULL), concurrently where a unique index allows; returns how many (ehr_admin)';

CREATE FUNCTION ehr.deidentify_all(k integer DEFAULT 0) RETURNS SETOF regclass
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $deidentify_all$
DECLARE
    src regclass;
BEGIN
    FOR src IN
        SELECT DISTINCT l.objoid::pg_catalog.regclass
          FROM pg_catalog.pg_seclabel l
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) l.objoid
         WHERE l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND l.objsubid OPERATOR(pg_catalog.>) 0
           AND l.provider OPERATOR(pg_catalog.=) 'ehr'
           AND c.relnamespace OPERATOR(pg_catalog.<>) 'ehr_deid'::pg_catalog.regnamespace
         ORDER BY 1
    LOOP
        IF NOT EXISTS (SELECT 1 FROM ehr.deid_columns(src) p WHERE p.dataset_column IS NOT NULL) THEN
            RAISE NOTICE 'skipping %: every column is withheld', src;
            CONTINUE;
        END IF;
        RETURN NEXT ehr.deidentify(src, k,
                                   coalesce((SELECT d.live FROM ehr.deid_dataset d
                                              WHERE d.source OPERATOR(pg_catalog.=) src), false));
    END LOOP;
END
$deidentify_all$;
REVOKE ALL ON FUNCTION ehr.deidentify_all(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deidentify_all(integer) TO ehr_admin;
COMMENT ON FUNCTION ehr.deidentify_all(integer) IS
    'ehr.deidentify() every relation that has ehr labels (skipping those whose every column is withheld), with the same k (ehr_admin)';

-- Runs as the caller: it reads only what the caller may read.
CREATE FUNCTION ehr.k_anonymity(rel regclass, cols text[]) RETURNS bigint
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $k_anonymity$
DECLARE
    nsp    name;
    relname name;
    col    text;
    result bigint;
BEGIN
    SELECT n.nspname, c.relname INTO nsp, relname
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) rel;
    FOREACH col IN ARRAY cols LOOP
        IF col IS NULL OR NOT EXISTS (
               SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.>) 0
                  AND NOT a.attisdropped AND a.attname OPERATOR(pg_catalog.=) col) THEN
            RAISE EXCEPTION 'column "%" of relation % does not exist', col, rel
                  USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(cols) OPERATOR(pg_catalog.=) 0 THEN
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0',
                                  nsp, relname) INTO result;
    ELSE
        EXECUTE pg_catalog.format('SELECT pg_catalog.min(n) FROM (SELECT pg_catalog.count(*) AS n FROM %I.%I GROUP BY %s) AS g',
                                  nsp, relname,
                                  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ') FROM pg_catalog.unnest(cols) AS c))
            INTO result;
    END IF;
    RETURN result;
END
$k_anonymity$;
REVOKE ALL ON FUNCTION ehr.k_anonymity(regclass, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.k_anonymity(regclass, text[]) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.k_anonymity(regclass, text[]) IS
    'Size of the smallest class of rows sharing the values of cols (NULL when rel has no rows)';

-- Which source a dataset comes from; lets analysts (who may not read
-- ehr.deid_dataset) ask ehr.deid_report about a dataset.
CREATE FUNCTION ehr.deid_source(dataset regclass) RETURNS regclass
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.source FROM ehr.deid_dataset d JOIN pg_catalog.pg_class c
        ON c.relname OPERATOR(pg_catalog.=) d.dataset
       AND c.relnamespace OPERATOR(pg_catalog.=) 'ehr_deid'::pg_catalog.regnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) $1
$$;
REVOKE ALL ON FUNCTION ehr.deid_source(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deid_source(regclass) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.deid_source(regclass) IS 'The source relation of a dataset in ehr_deid (NULL for anything else)';

CREATE FUNCTION ehr.deid_report(rel regclass)
    RETURNS TABLE (source_column name, label text, class text, dataset_column name,
                   quasi_identifier boolean, k bigint)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $deid_report$
#variable_conflict use_variable
DECLARE
    source  regclass := coalesce(ehr.deid_source(rel), rel);
    dataset regclass;
    qi      text[];
    reached bigint;
BEGIN
    dataset := pg_catalog.to_regclass(pg_catalog.format('ehr_deid.%I',
                   (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) source)));
    IF dataset IS NOT NULL AND ehr.deid_source(dataset) OPERATOR(pg_catalog.=) source
       AND pg_catalog.has_table_privilege(dataset, 'SELECT') THEN
        SELECT pg_catalog.array_agg(p.dataset_column::pg_catalog.text) INTO qi
          FROM ehr.deid_columns(source) p
         WHERE p.quasi_identifier
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) dataset
                          AND a.attname OPERATOR(pg_catalog.=) p.dataset_column);
        reached := ehr.k_anonymity(dataset, coalesce(qi, '{}'));
    END IF;
    RETURN QUERY
        SELECT p.source_column, p.label, p.class, p.dataset_column, p.quasi_identifier, reached
          FROM ehr.deid_columns(source) p;
END
$deid_report$;
REVOKE ALL ON FUNCTION ehr.deid_report(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.deid_report(regclass) TO ehr_analyst, ehr_admin;
COMMENT ON FUNCTION ehr.deid_report(regclass) IS
    'Each column of a labelled relation (or of its dataset): label, class, dataset column, whether k applies to it, and the k the dataset reaches';

-- ---------------------------------------------------------------------------
-- Keeping datasets in step with DDL. A materialized dataset is a snapshot of
-- its source's labels: after ALTER TABLE or SECURITY LABEL on a source, say
-- which dataset needs ehr.deidentify() again; when a dataset or its source is
-- dropped, forget it. SECURITY DEFINER: the DDL's author may not read
-- ehr.deid_dataset. Neither function can fail on a relation it does not know.
-- ---------------------------------------------------------------------------
CREATE FUNCTION ehr.deid_ddl_watch() RETURNS event_trigger
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $deid_ddl_watch$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT DISTINCT d.source, d.dataset
          FROM pg_catalog.pg_event_trigger_ddl_commands() e
          JOIN ehr.deid_dataset d ON d.source OPERATOR(pg_catalog.=) e.objid
         WHERE e.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
    LOOP
        RAISE NOTICE 'dataset ehr_deid.% was built from the previous definition of %',
                     pg_catalog.quote_ident(c.dataset), c.source
              USING HINT = pg_catalog.format('Rebuild it: SELECT ehr.deidentify(%L);', c.source::pg_catalog.text);
    END LOOP;
END
$deid_ddl_watch$;
REVOKE ALL ON FUNCTION ehr.deid_ddl_watch() FROM PUBLIC;
COMMENT ON FUNCTION ehr.deid_ddl_watch() IS
    'Event trigger: after ALTER or SECURITY LABEL on the source of a dataset, a NOTICE saying to rebuild it';
CREATE EVENT TRIGGER ehr_deid_ddl ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER VIEW', 'ALTER FOREIGN TABLE', 'ALTER MATERIALIZED VIEW', 'SECURITY LABEL')
    EXECUTE FUNCTION ehr.deid_ddl_watch();
COMMENT ON EVENT TRIGGER ehr_deid_ddl IS 'Reminds to rebuild a de-identified dataset after DDL on its source';

CREATE FUNCTION ehr.deid_drop_watch() RETURNS event_trigger
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $deid_drop_watch$
BEGIN
    -- during DROP EXTENSION the registry itself may be gone
    IF pg_catalog.to_regclass('ehr.deid_dataset') IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM ehr.deid_dataset d
     USING pg_catalog.pg_event_trigger_dropped_objects() o
     WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND o.objsubid OPERATOR(pg_catalog.=) 0
       AND (o.objid OPERATOR(pg_catalog.=) d.source
            OR (o.schema_name OPERATOR(pg_catalog.=) 'ehr_deid' AND o.object_name OPERATOR(pg_catalog.=) d.dataset));
END
$deid_drop_watch$;
REVOKE ALL ON FUNCTION ehr.deid_drop_watch() FROM PUBLIC;
COMMENT ON FUNCTION ehr.deid_drop_watch() IS
    'Event trigger: forgets a de-identified dataset when it or its source is dropped';
CREATE EVENT TRIGGER ehr_deid_drop ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP VIEW', 'DROP MATERIALIZED VIEW', 'DROP FOREIGN TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION ehr.deid_drop_watch();
COMMENT ON EVENT TRIGGER ehr_deid_drop IS 'Forgets a de-identified dataset when it or its source is dropped';

-- ---------------------------------------------------------------------------
-- The extension's own tables, labelled (what ehr.deidentify_all() publishes).
-- Direct identifiers (names, phones, addresses, free text, record numbers) are
-- withheld; residents and institutions become pseudonyms that join across
-- datasets; clinical times move by each resident's keyed offset; lab values
-- are kept. Catalogues (ehr.lab_item, ehr.region) are readable as they are.
-- ---------------------------------------------------------------------------
SECURITY LABEL FOR ehr ON COLUMN ehr.institution.org IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.institution.name IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.institution.level IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.institution.region IS 'region:city';

SECURITY LABEL FOR ehr ON COLUMN ehr.resident.id IS 'pseudonymize,age_band,sex,region:city';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.name IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.phone IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.address_region IS 'region:city';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.address IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.institution IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.resident.created_at IS 'shift_date';

SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.id IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.resident IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.institution IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.practitioner IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.kind IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.started_at IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN ehr.encounter.ended_at IS 'shift_date';

SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.id IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.resident IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.institution IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.encounter IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.category IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.collected_at IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.reported_at IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_report.status IS 'keep';

SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.id IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.report IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.resident IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.institution IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.category IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.item IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.value IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.value_text IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.refrange IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.lab_result.collected_at IS 'shift_date';

SECURITY LABEL FOR ehr ON COLUMN ehr.document.id IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.resident IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.institution IS 'pseudonymize';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.category IS 'keep';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.encounter IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.author IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.created_at IS 'shift_date';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.title IS 'withhold';
SECURITY LABEL FOR ehr ON COLUMN ehr.document.body IS 'withhold';
