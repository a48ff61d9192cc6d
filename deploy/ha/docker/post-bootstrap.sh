#!/bin/sh
# Patroni's post_bootstrap hook (run once, on the member that initialised the cluster, with a superuser connection
# string as $1): PicoPay's own role and database, so the app never connects as a superuser, and the application role
# (db/grants.sql) with picopay as a member, so PicoPay's single URL can switch its server sessions to it.
set -eu
: "${PICOPAY_DB_PASSWORD:?set PICOPAY_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 -v password="$PICOPAY_DB_PASSWORD" "$1" <<'SQL'
CREATE ROLE picopay LOGIN PASSWORD :'password';
CREATE DATABASE picopay OWNER picopay;
CREATE ROLE picopay_app NOLOGIN;
GRANT picopay_app TO picopay;
SQL
