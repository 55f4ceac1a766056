# Sourced by the evaluation scripts. `rate PAGES CMD…` prints the best pages/s of three runs of
# CMD (its output discarded): this shared host's speed varies within a run (the first pass
# right after decompressing the pages has measured half the speed of later ones), and the best
# run is the least disturbed.
rate() {
    local pages=$1 best=0 start end
    shift
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        best=$(python3 -c "print(max($best, $pages / ($end - $start)))")
    done
    printf '%.0f' "$best"
}
