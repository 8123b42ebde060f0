#!/usr/bin/env bash
# Publishes a test pattern with a burned-in wall clock and frame number (read it off the player
# to see glass-to-glass latency by eye). Usage: ./broadcast.sh <stream key> [rtmp://host:1935/live] [WxH]
set -euo pipefail
KEY=${1:?usage: broadcast.sh <stream key> [ingest URL] [size]}
INGEST=${2:-rtmp://localhost:1935/live}
SIZE=${3:-1280x720}
FONT=$(fc-match -f '%{file}' monospace 2>/dev/null || echo /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf)
exec ffmpeg -hide_banner -loglevel warning -re \
  -f lavfi -i "testsrc2=size=${SIZE}:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
  -vf "drawtext=fontfile=${FONT}:text='%{localtime\\:%T}.%{eif\\:mod(t*1000\\,1000)\\:d\\:3}  frame %{frame_num}':x=20:y=20:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6" \
  -c:v libx264 -preset veryfast -tune zerolatency -g 30 -pix_fmt yuv420p -b:v 3M \
  -c:a aac -b:a 128k -f flv "${INGEST}/${KEY}"
