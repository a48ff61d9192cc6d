-- A user with its balances and available balances (less pending holds) by currency, in major and minor units.
CREATE OR REPLACE FUNCTION picopay_user_json(p_user_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"id":' || u.id || ',"name":' || picopay_json(u.name)
    || ',"balances":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || picopay_major(a.balance, a.exponent), ','
                                              ORDER BY a.currency), '') || '}'
    || ',"balances_minor":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || a.balance, ','
                                                    ORDER BY a.currency), '') || '}'
    || ',"available_balances":{' || coalesce(string_agg(picopay_json(a.currency) || ':'
                                                        || picopay_major(a.available, a.exponent), ','
                                                        ORDER BY a.currency), '') || '}'
    || ',"available_balances_minor":{' || coalesce(string_agg(picopay_json(a.currency) || ':' || a.available, ','
                                                              ORDER BY a.currency), '') || '}'
    || ',"created_at":"' || picopay_timestamp(u.created_at) || '"}'
  FROM users u
  -- Available: the balance less pending holds; a hold past its expiry no longer counts, settled or not yet.
  LEFT JOIN LATERAL (
    SELECT a.*, a.balance - a.held + coalesce((SELECT sum(h.amount) FROM authorizations h
                                                WHERE h.account_id = a.id AND h.status = 'pending'
                                                  AND h.expires_at <= now()), 0)::bigint AS available
      FROM accounts a WHERE a.user_id = u.id) a ON true
  WHERE u.id = p_user_id
  GROUP BY u.id
$$;
