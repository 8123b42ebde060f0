#!/usr/bin/env bash
# Every live API endpoint with curl (docs/live.md). Usage:
#   AIRWAVES_URL=http://localhost:8080 TOKEN=<admin API key or streamer token> ./curl.sh
set -euo pipefail
URL=${AIRWAVES_URL:-http://localhost:8080}
AUTH=(-H "authorization: Bearer ${TOKEN:?set TOKEN to the admin API key or a streamer token}")
JSON=(-H 'content-type: application/json')
say() { printf '\n== %s\n' "$*"; }

say "where to publish";             curl -s "$URL/api/v1/streams/ingest"
say "create a key (shown once)";    KEY_JSON=$(curl -s "${AUTH[@]}" "${JSON[@]}" -XPOST "$URL/api/v1/streams/keys" -d '{"label":"curl example"}'); echo "$KEY_JSON"
KEY_ID=$(echo "$KEY_JSON" | sed -E 's/.*"id":"([^"]+)".*/\1/')
say "list my keys";                 curl -s "${AUTH[@]}" "$URL/api/v1/streams/keys"
say "rotate the key";               curl -s "${AUTH[@]}" -XPOST "$URL/api/v1/streams/keys/$KEY_ID/rotate"
say "schedule a stream (PENDING)";  STREAM_JSON=$(curl -s "${AUTH[@]}" "${JSON[@]}" -XPOST "$URL/api/v1/streams" -d "{\"title\":\"Curl show\",\"keyId\":\"$KEY_ID\"}"); echo "$STREAM_JSON"
STREAM_ID=$(echo "$STREAM_JSON" | sed -E 's/^\{"id":"([^"]+)".*/\1/')
say "active streams";               curl -s "$URL/api/v1/streams"
say "all streams of an owner";      curl -s "$URL/api/v1/streams?status=ALL&limit=5"
say "one stream";                   curl -s "$URL/api/v1/streams/$STREAM_ID"
say "its history (time series)";    curl -s "${AUTH[@]}" "$URL/api/v1/streams/$STREAM_ID/metrics?from=2020-01-01T00:00:00Z"
say "playlists (404 not_live until the key publishes)"
curl -s -o /dev/null -w 'index.m3u8 %{http_code}\n' "$URL/api/v1/streams/$STREAM_ID/media/index.m3u8"
curl -s -o /dev/null -w 'plain.m3u8 %{http_code}\n' "$URL/api/v1/streams/$STREAM_ID/media/plain.m3u8"
curl -s -o /dev/null -w 'manifest.mpd %{http_code}\n' "$URL/api/v1/streams/$STREAM_ID/media/manifest.mpd"
say "the event door answers 426 to plain HTTP (open it as a WebSocket)"
curl -s "$URL/api/v1/streams/$STREAM_ID/ws"
say "end the stream";               curl -s "${AUTH[@]}" -XDELETE "$URL/api/v1/streams/$STREAM_ID"
say "revoke the key";               curl -s "${AUTH[@]}" -XDELETE "$URL/api/v1/streams/keys/$KEY_ID"
say "nginx-rtmp callback (from loopback): a wrong key is refused"
curl -s -o /dev/null -w 'on_publish %{http_code}\n' -XPOST "$URL/api/v1/streams/nginx/on_publish" -d 'call=publish&app=live&name=live_wrong'
echo
