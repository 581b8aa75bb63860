#!/bin/sh
# deskprov hot-desk helper for a PBX dialplan (*91 login, *92 logout).
#
#   deskprov-hotdesk login  <caller-extension> <extension> <pin>
#   deskprov-hotdesk logout <caller-extension>
#
# Environment: DESKPROV_URL (e.g. http://deskprov.example.com:8080), DESKPROV_TOKEN (a token
# with the "pbx" role), DESKPROV_UA (the SIP User-Agent of the calling phone, optional).
# Prints one word for the dialplan: ok, wrong-pin, locked, refused, unknown-phone or error.
# Needs curl; jq only when the phone's MAC is not in its User-Agent (Polycom).
set -u
cmd=${1:-}; caller=${2:-}
api="${DESKPROV_URL%/}/api/v1"
auth="Authorization: Bearer ${DESKPROV_TOKEN:?DESKPROV_TOKEN is not set}"

digits() { printf '%s' "$1" | tr -cd '0-9'; }
caller=$(digits "$caller")

# The calling phone's MAC: the last MAC-looking token of its User-Agent (Yealink, Sangoma) ...
mac=$(printf '%s' "${DESKPROV_UA:-}" | grep -oiE '([0-9a-f]{2}:){5}[0-9a-f]{2}|[0-9a-f]{12}' | tail -n 1 | tr -d ':' | tr 'A-F' 'a-f')
# ... else ask deskprov which phone carries the caller's line now: one the caller sits at as a
# guest, or (login only: a guest sits down at someone's desk) one the caller owns with nobody
# else at it. Exactly one such phone, or unknown-phone: a caller with several gets no guess.
macs() { # <api path> <jq filter>: one MAC a line; fails when deskprov cannot answer
  body=$(curl -fsS -m 5 -H "$auth" "$api/$1") && printf '%s' "$body" | jq -r "$2"
}
if [ -z "$mac" ] && [ -n "$caller" ]; then
  found=$(macs "sessions?active=true&extension=$caller" '.sessions[].mac') || { echo error; exit 0; }
  if [ "$cmd" = login ]; then
    owned=$(macs "devices?owner=$caller&state=owner" '.devices[].mac') || { echo error; exit 0; }
    found="$found
$owned"
  fi
  found=$(printf '%s\n' "$found" | grep -E '^[0-9a-f]{12}$' | sort -u)
  [ "$(printf '%s\n' "$found" | grep -c .)" = 1 ] && mac=$found
fi
[ -n "$mac" ] || { echo unknown-phone; exit 0; }

case "$cmd" in
  login)
    ext=$(digits "${3:-}"); pin=$(digits "${4:-}")
    status=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/json' \
      --data "{\"extension\":\"$ext\",\"pin\":\"$pin\"}" "$api/devices/$mac/login") ;;
  logout)
    status=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H "$auth" "$api/devices/$mac/logout") ;;
  *) echo "usage: $0 login <caller> <extension> <pin> | logout <caller>" >&2; exit 2 ;;
esac

case "$status" in
  200) echo ok ;;
  400|401) echo wrong-pin ;;
  423) echo locked ;;
  403|409) echo refused ;;
  404) echo unknown-phone ;;
  *) echo error ;;
esac
