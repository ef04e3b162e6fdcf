# Shared by the bench scripts (source it after setting OUT): run a command under GNU time and
# print its figures on one RESULT line.

# measure NAME CMD...: runs CMD, its output in $OUT/NAME.log, GNU time's in $OUT/NAME.time.
measure() {
  local name=$1; shift
  /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.log" 2>&1
}

# report NAME DOCS [KEY=VALUE...]: wall and CPU seconds (user + sys), documents per CPU-second
# (the per-core figure) and per wall second, peak RSS, then the extra fields.
report() {
  local name=$1 docs=$2; shift 2
  local tf=$OUT/$name.time
  local user sys wall rss
  user=$(awk -F': ' '/User time/ {print $2}' "$tf")
  sys=$(awk -F': ' '/System time/ {print $2}' "$tf")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tf" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
  python3 - "$name" "$docs" "$user" "$sys" "$wall" "$rss" "$@" <<'PY'
import sys
name, docs, user, sys_, wall, rss, *extra = sys.argv[1:]
cpu = float(user) + float(sys_)
print(f"RESULT {name:<22} docs={docs} wall_s={float(wall):.2f} cpu_s={cpu:.2f} "
      f"docs_per_cpu_s={int(docs) / cpu:.0f} docs_per_wall_s={int(docs) / float(wall):.0f} "
      f"peak_rss_mb={int(rss) / 1024:.0f}" + "".join(" " + e for e in extra))
PY
}
