-- The common start of a capture or a void: claim the key, find the hold (another client's is not found unless
-- p_any), lock its account then the hold (the order every hold operation takes), settle it if it expired (lazy
-- expiry, committed with the decline), and decline unless it is still pending. Returns outcome 'claimed' with the
-- locked hold and account when the caller may go on; otherwise the final outcome.
CREATE OR REPLACE FUNCTION picopay_settle_hold(p_client text, p_key text, p_operation text, p_fingerprint bytea,
  p_authorization_id bigint, p_any boolean, p_retention interval, p_decline_retention interval,
  OUT outcome text, OUT status smallint, OUT code text, OUT body text, OUT h authorizations, OUT acct accounts)
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
  v_title text;
  v_detail text;
BEGIN
  SELECT c.outcome, c.status, c.code, c.body INTO outcome, status, code, body
    FROM picopay_claim_key(p_client, p_key, p_operation, p_fingerprint, p_retention, p_decline_retention) c;
  IF outcome <> 'claimed' THEN
    RETURN;
  END IF;

  SELECT * INTO h FROM authorizations a WHERE a.id = p_authorization_id;
  IF h.id IS NULL OR NOT (p_any OR h.client = p_client) THEN
    outcome := 'declined'; status := 404; code := 'authorization_not_found';
    body := picopay_record_decline(p_client, p_key, status, code, 'Authorization not found', 'Authorization not found');
    RETURN;
  END IF;
  SELECT * INTO acct FROM accounts a WHERE a.id = h.account_id FOR UPDATE;
  SELECT * INTO h FROM authorizations a WHERE a.id = p_authorization_id FOR UPDATE;
  IF h.status = 'pending' AND h.expires_at <= now() THEN
    acct.held := acct.held - picopay_expire_account_holds(acct.id, acct.balance);
    SELECT * INTO h FROM authorizations a WHERE a.id = p_authorization_id;
  END IF;
  IF h.status = 'pending' THEN
    RETURN;
  END IF;
  outcome := 'declined';
  IF h.status = 'expired' THEN
    status := 422; code := 'authorization_expired'; v_title := 'Authorization expired';
    v_detail := 'The authorization expired and its amount was released';
  ELSIF h.status = 'captured' THEN
    status := 409; code := 'authorization_already_captured'; v_title := 'Authorization already captured';
    v_detail := 'The authorization was already captured';
  ELSE
    status := 409; code := 'authorization_not_pending'; v_title := 'Authorization not pending';
    v_detail := 'The authorization was voided';
  END IF;
  body := picopay_record_decline(p_client, p_key, status, code, v_title, v_detail);
END $$;
