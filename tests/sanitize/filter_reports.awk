# Reads one sanitizer report file (scripts/sanitize: every report.* of a run)
# and prints the reports that count, then a last line "@@ RELEVANT IGNORED CUT".
# Variable: root, this repository's absolute path.
#
# A TSan data race is ours when, in either of its two access stacks, the innermost
# frame that is not libstdc++ or a sanitizer interceptor is in this
# repository (lib/, server/, client/, tests/). Otherwise the access was made
# by gRPC, protobuf or absl code (often gRPC's C++ header code compiled into
# our binaries, called by our reactors, and ordered by gRPC core's lock-free
# queues that TSan cannot see): such reports are counted as ignored. An
# allocation or deallocation counts for neither side: a reactor created by
# our handler and run by gRPC on another thread, or freed after gRPC's OnDone,
# is ordered by gRPC core; the lifetime itself is checked by the ASan run,
# which sees real use-after-free. A data race report cut off before its
# first stack frame (a test SIGKILLed the process while TSan was writing it)
# says nothing and is counted apart. Every other report fails the run.
function flush() {
  if (!open) return
  if (kind ~ /^data race/ && truncated) { cut++ }
  else if (kind ~ /^data race/ && !mine) { ignored++ }
  else { relevant++; printf "%s", text }
  open = 0
}
function decide(v) { if (decision == "") decision = v }
function end_access() {
  if (access && (decision == "ours" || decision == "")) mine = 1
  access = 0
}
/^WARNING: ThreadSanitizer: |ERROR: (Address|Leak|Thread)Sanitizer|runtime error:/ {
  end_access(); flush(); open = 1; mine = 0; text = ""
  kind = $0; sub(/.*ThreadSanitizer: /, "", kind); sub(/ \(pid=.*/, "", kind)
}
open && /^  (Previous )?(atomic )?([Ww]rite|[Rr]ead) of size/ { end_access(); access = 1; decision = ""; frames = 0 }
open && access && /^ +#[0-9]+ / { frames++ }
open && (/^$/ || /^  (Location|Mutex|Thread) /) { end_access() }
open && access && /failed to restore the stack/ { decide("ours") }
open && access && /^ +#0 (operator new|operator delete|malloc|free|calloc|realloc|posix_memalign|aligned_alloc)[( ]/ { decide("neutral") }
open && access && /^ +#[0-9]+ / && match($0, / \([^ ()]+\+0x[0-9a-f]+\)/) {
  module = substr($0, RSTART + 2, RLENGTH - 3); sub(/\+0x.*/, "", module)
  n = split(substr($0, 1, RSTART - 1), parts, " "); file = parts[n]
  if (file == "<null>") { if (module ~ /\.so/) decide("theirs") }
  else if (file ~ /\/include\/c\+\+\// || file ~ /\/lib\/gcc\//) { }
  else if (index(file, root "/lib/") == 1 || index(file, root "/server/") == 1 ||
           index(file, root "/client/") == 1 || index(file, root "/tests/") == 1) { decide("ours") }
  else { decide("theirs") }
}
open { text = text $0 "\n" }
END {
  truncated = open && access && frames == 0  # The file ends mid-report.
  end_access(); flush(); printf "@@ %d %d %d\n", relevant, ignored, cut
}
