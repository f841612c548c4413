-- Fuzz: 12,000 random and mutated strings into each input function (labvalue, refrange).
-- Every string either parses, and then its output reads back to an equal value, or
-- raises 22P02; nothing else (no other error, no crash). Deterministic: setseed.
SELECT setseed(0.20261129);

CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    alphabet text[] := ARRAY['0','1','5','9','.','.','-','+','e','E','/','/','*','^','[',']','{','}',
                             '(',')',' ',',','<','>','=','m','g','L','l','u','k','d','U','%','_',
                             'μ','µ','×','⁹','²','～','–','毫','''','10*','10^','[iU]','{1.73_m2}',
                             'mm[Hg]','mol','IU','H2O','1.73m2',E'\t','~','≤','≥'];
    n int := 1 + floor(random() * 4)::int;
    i int; p int; op int;
BEGIN
    FOR i IN 1 .. n LOOP
        p := floor(random() * (length(s) + 1))::int;
        op := floor(random() * 5)::int;
        IF op = 0 THEN        -- insert
            s := substr(s, 1, p) || alphabet[1 + floor(random() * array_length(alphabet, 1))::int] || substr(s, p + 1);
        ELSIF op = 1 THEN     -- delete
            s := substr(s, 1, p) || substr(s, p + 2);
        ELSIF op = 2 THEN     -- replace
            s := substr(s, 1, p) || alphabet[1 + floor(random() * array_length(alphabet, 1))::int] || substr(s, p + 2);
        ELSIF op = 3 THEN     -- duplicate a slice
            s := substr(s, 1, p) || substr(s, greatest(p - 3, 1), 4) || substr(s, p + 1);
        ELSE                  -- truncate
            s := substr(s, 1, p);
        END IF;
    END LOOP;
    RETURN s;
END $$;

CREATE FUNCTION pg_temp.random_string() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(substr(E'0123456789.eE+-/*^[]{}()<>=, mgLlukdU%_μ×⁹～\t', 1 + floor(random() * 48)::int, 1), '')
      FROM generate_series(1, 1 + floor(random() * 20)::int)
$$;

CREATE FUNCTION pg_temp.fuzz(typ text, seeds text[], n int)
RETURNS TABLE (tried int, parsed_and_round_tripped boolean, rejected_22p02 boolean, other_outcomes int)
LANGUAGE plpgsql AS $$
DECLARE
    s text; outp text; back text; i int; st text;
    ok int := 0; bad int := 0; other int := 0;
BEGIN
    FOR i IN 1 .. n LOOP
        IF i % 4 = 0 THEN
            s := pg_temp.random_string();
        ELSE
            s := pg_temp.mutate(seeds[1 + floor(random() * array_length(seeds, 1))::int]);
        END IF;
        BEGIN
            EXECUTE format('SELECT %L::ehr.%s::text', s, typ) INTO outp;
            EXECUTE format('SELECT %L::ehr.%s::text', outp, typ) INTO back;
            IF back IS DISTINCT FROM outp THEN
                RAISE NOTICE 'round trip changed % -> % -> %', s, outp, back;
                other := other + 1;
            ELSE
                ok := ok + 1;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            IF st = '22P02' THEN
                bad := bad + 1;
            ELSE
                RAISE NOTICE '% raised % for %', typ, st, s;
                other := other + 1;
            END IF;
        END;
    END LOOP;
    RETURN QUERY SELECT n, ok > 0, bad > 0, other;
END $$;

SELECT * FROM pg_temp.fuzz('labvalue',
    ARRAY['5.60 mmol/L', '<0.01 ng/mL', '>=90 mL/min/{1.73_m2}', '6.5 ×10^9/L', '65 μmol/L',
          '35 IU/L', '120 mmHg', '1.5e3 /uL', '7.40', '-2.3 mmol/L', '12 mIU/mL', '4.50 10*12/L',
          '3 cmH2O', '8 {cells}/[HPF]', '0.45 %', '1 kg.m/s2', '5 (mg/dL)/h'], 12000);
SELECT * FROM pg_temp.fuzz('refrange',
    ARRAY['[3.9,6.1] mmol/L', '(0,5.2) mmol/L', '<5.2 mmol/L', '>=90 mL/min/{1.73_m2}',
          '3.9-6.1 mmol/L', '3.5～5.5 ×10^12/L', '[7.35,7.45]', '≤0.5 ng/mL', '0-40 IU/L',
          '[-3,3] mmol/L', '(1e2,4.5e2] 10*9/L'], 12000);
