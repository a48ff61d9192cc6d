-- A user with its balances by currency, in major and minor units.
CREATE OR REPLACE FUNCTION picopay_user_json(p_user_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"id":' || u.id || ',"name":' || picopay_json(u.name)
    || ',"balances":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || picopay_major(a.balance, a.exponent), ','
                                              ORDER BY a.currency), '') || '}'
    || ',"balances_minor":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || a.balance, ','
                                                    ORDER BY a.currency), '') || '}'
    || ',"created_at":"' || picopay_timestamp(u.created_at) || '"}'
  FROM users u LEFT JOIN accounts a ON a.user_id = u.id
  WHERE u.id = p_user_id
  GROUP BY u.id
$$;
