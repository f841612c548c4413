-- Fuzz test of the two input functions: 100,000 strings, random or mutated from
-- valid identifiers, each fed to resident_id_in and org_code_in (and to the text
-- casts). Every input either parses or raises 22P02, and the outcome always agrees
-- with is_valid_*; what parses prints canonically and parses back to itself.
-- Counts only; the seed makes the run repeatable.
SET search_path = public, ehr;
SELECT setseed(0.11643);
CREATE FUNCTION pg_temp.fuzz_string(i int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    -- characters that matter to the parsers: digits, x/X, the letters org codes use
    -- and the ones they exclude, blanks, signs, full-width and other multibyte ones
    alphabet text[] := ARRAY['0','1','2','3','4','5','6','7','8','9','X','x','A','H','I','O','S',
                             'V','Z','y','Y','m',' ',E'\t','-','+','.','１','Ｘ','中','é',E'\n'];
    base text;
    s text;
    k int := i % 8;
    p int;
BEGIN
    IF k = 0 THEN   -- random string, length 0-20
        s := '';
        FOR j IN 1 .. floor(random() * 21)::int LOOP
            s := s || alphabet[1 + floor(random() * array_length(alphabet, 1))::int];
        END LOOP;
        RETURN s;
    ELSIF k = 1 THEN  -- random digit strings of length 14-19: many reach the date/check rules
        s := '';
        FOR j IN 1 .. 14 + floor(random() * 6)::int LOOP
            s := s || floor(random() * 10)::int::text;
        END LOOP;
        RETURN s;
    END IF;
    -- a valid identifier to mutate: a resident ID (18 or 15 digits) or an org code
    IF k IN (2, 3, 4) THEN
        base := (ARRAY['11','32','44','62','65','81'])[1 + floor(random() * 6)::int]
                || lpad(floor(random() * 10000)::int::text, 4, '0')
                || to_char(date '1850-01-01' + floor(random() * 60000)::int, 'YYYYMMDD')
                || lpad(floor(random() * 1000)::int::text, 3, '0');
        base := base || ehr.resident_id_check_char(base);
        IF k = 4 THEN base := left(base, 6) || substr(base, 9, 9); END IF;
    ELSE
        base := (ARRAY['9','1','5','Y'])[1 + floor(random() * 4)::int] || '1'
                || lpad(floor(random() * 1000000)::int::text, 6, '0') || 'MA';
        FOR j IN 1 .. 7 LOOP
            base := base || substr('0123456789ABCDEFGHJKLMNPQRTUWXY', 1 + floor(random() * 31)::int, 1);
        END LOOP;
        base := base || ehr.org_code_check_char(base);
    END IF;
    p := 1 + floor(random() * length(base))::int;
    CASE floor(random() * 7)::int
        WHEN 0 THEN s := base;                                                   -- unchanged
        WHEN 1 THEN s := overlay(base placing alphabet[1 + floor(random() * array_length(alphabet, 1))::int] from p for 1);
        WHEN 2 THEN s := overlay(base placing '' from p for 1);                  -- delete
        WHEN 3 THEN s := overlay(base placing alphabet[1 + floor(random() * array_length(alphabet, 1))::int] from p for 0);
        WHEN 4 THEN s := overlay(base placing substr(base, p + 1, 1) || substr(base, p, 1) from p for 2);  -- swap
        WHEN 5 THEN s := lower(base);
        ELSE s := repeat(' ', floor(random() * 3)::int) || base || repeat(E'\t', floor(random() * 3)::int);
    END CASE;
    RETURN s;
END $$;

CREATE TEMP TABLE fuzz_result (kind text, outcome text, n int);
DO $$
DECLARE
    s text;
    r ehr.resident_id;
    o ehr.org_code;
    ok boolean;
    ok2 boolean;
    st text;
    c_rid jsonb := '{}';
    c_org jsonb := '{}';
    bump text;
BEGIN
    FOR i IN 1 .. 100000 LOOP
        s := pg_temp.fuzz_string(i);
        -- resident_id: the input function, then the text cast
        BEGIN
            r := ehr.resident_id_in(s::cstring);
            ok := true;
            IF ehr.resident_id_out(r)::text::ehr.resident_id OPERATOR(ehr.<>) r THEN
                bump := 'not_round_trip';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            ok := false;
            IF st <> '22P02' THEN RAISE NOTICE 'resident_id_in(%): SQLSTATE %', s, st; END IF;
            bump := CASE WHEN st = '22P02' THEN NULL ELSE 'other_sqlstate' END;
        END;
        BEGIN
            r := s::ehr.resident_id;
            ok2 := true;
        EXCEPTION WHEN invalid_text_representation THEN
            ok2 := false;
        END;
        c_rid := jsonb_set(c_rid, ARRAY[CASE
                     WHEN bump IS NOT NULL THEN bump
                     WHEN ok IS DISTINCT FROM ehr.is_valid_resident_id(s) OR ok <> ok2 THEN 'disagrees'
                     WHEN ok THEN 'parsed' ELSE 'rejected_22P02' END],
                   to_jsonb(coalesce((c_rid ->> CASE
                     WHEN bump IS NOT NULL THEN bump
                     WHEN ok IS DISTINCT FROM ehr.is_valid_resident_id(s) OR ok <> ok2 THEN 'disagrees'
                     WHEN ok THEN 'parsed' ELSE 'rejected_22P02' END)::int, 0) + 1));
        bump := NULL;
        -- org_code
        BEGIN
            o := ehr.org_code_in(s::cstring);
            ok := true;
            IF ehr.org_code_out(o)::text::ehr.org_code OPERATOR(ehr.<>) o THEN
                bump := 'not_round_trip';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            ok := false;
            IF st <> '22P02' THEN RAISE NOTICE 'org_code_in(%): SQLSTATE %', s, st; END IF;
            bump := CASE WHEN st = '22P02' THEN NULL ELSE 'other_sqlstate' END;
        END;
        BEGIN
            o := s::ehr.org_code;
            ok2 := true;
        EXCEPTION WHEN invalid_text_representation THEN
            ok2 := false;
        END;
        c_org := jsonb_set(c_org, ARRAY[CASE
                     WHEN bump IS NOT NULL THEN bump
                     WHEN ok IS DISTINCT FROM ehr.is_valid_org_code(s) OR ok <> ok2 THEN 'disagrees'
                     WHEN ok THEN 'parsed' ELSE 'rejected_22P02' END],
                   to_jsonb(coalesce((c_org ->> CASE
                     WHEN bump IS NOT NULL THEN bump
                     WHEN ok IS DISTINCT FROM ehr.is_valid_org_code(s) OR ok <> ok2 THEN 'disagrees'
                     WHEN ok THEN 'parsed' ELSE 'rejected_22P02' END)::int, 0) + 1));
        bump := NULL;
    END LOOP;
    INSERT INTO fuzz_result SELECT 'resident_id', key, value::int FROM jsonb_each_text(c_rid);
    INSERT INTO fuzz_result SELECT 'org_code', key, value::int FROM jsonb_each_text(c_org);
END $$;
-- Both kinds of outcome occur often (the test can see a change of behaviour), and
-- nothing else ever does: no other SQLSTATE, no disagreement with is_valid_*, no
-- value that fails to round-trip.
SELECT kind, sum(n) AS inputs,
       sum(n) FILTER (WHERE outcome = 'parsed') > 5000 AS many_parsed,
       sum(n) FILTER (WHERE outcome = 'rejected_22P02') > 20000 AS many_rejected,
       coalesce(sum(n) FILTER (WHERE outcome NOT IN ('parsed', 'rejected_22P02')), 0) AS anything_else
  FROM fuzz_result GROUP BY kind ORDER BY kind;
SELECT kind, outcome, n FROM fuzz_result WHERE outcome NOT IN ('parsed', 'rejected_22P02') ORDER BY 1, 2;
