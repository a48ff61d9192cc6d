-- A final charge decline: recorded under the key like every decline (picopay_record_decline), and published as a
-- charge.declined event in the same transaction. The event's data is a small object of PicoPay's own (there is no
-- transaction): the problem's code and status and what the request asked for, in minor units since a decline about
-- a missing account knows no exponent. Compact JSON built by hand, like the other renderers.
CREATE OR REPLACE FUNCTION picopay_record_charge_decline(p_client text, p_key text, p_user_id bigint,
  p_currency text, p_amount bigint, p_status smallint, p_code text, p_title text, p_detail text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (type, client, user_id, data)
  VALUES ('charge.declined', p_client,
          p_user_id,
          '{"code":' || picopay_json(p_code)
          || ',"status":' || p_status
          || ',"user_id":' || p_user_id
          || ',"currency":' || picopay_json(p_currency)
          || ',"amount_minor":' || p_amount
          || ',"idempotency_key":' || picopay_json(p_key)
          || ',"created_at":"' || picopay_timestamp(now()) || '"}');
  RETURN picopay_record_decline(p_client, p_key, p_status, p_code, p_title, p_detail);
END $$;
