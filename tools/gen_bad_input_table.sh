#!/usr/bin/env bash
# Feeds the actlab command line every class of bad input we know of, and either writes the table of
# what it answers (docs/bad_input.md) or checks the contract behind it:
#
#   tools/gen_bad_input_table.sh [ACTLAB]            regenerate docs/bad_input.md (default build/release/actlab)
#   tools/gen_bad_input_table.sh --check [ACTLAB]    each case must exit non-zero, print exactly one line on
#                                                    stderr starting with "actlab: error: ", nothing on stdout,
#                                                    and leave no file behind (no output, no temp file)
#
# The bad files are made here (bash, printf, gzip), in a scratch folder; messages name them by their
# relative path, so the table is the same on every machine.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
actlab="$(realpath "${1:-$here/build/release/actlab}")"
[ -x "$actlab" ] || { echo "gen_bad_input_table: no actlab at $actlab (build it first)" >&2; exit 2; }
out_md="$here/docs/bad_input.md"

work="$(mktemp -d "${TMPDIR:-/tmp}/actlab_bad_input.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# ---- Makers of (bad) files. ----
bytes() { printf "$2" > "$1"; }                       # bytes FILE 'printf-escaped bytes'
le16() { printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }   # prints escapes for printf
le64() { local i; for i in 0 1 2 3 4 5 6 7; do printf '\\x%02x' $(($1 >> (8 * i) & 255)); done; }
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
# npy FILE HEADER_DICT DATA_PRINTF: a version 1.0 file with the header padded as numpy pads it.
npy() {
  local header="$2" len
  len=$(( (10 + ${#header} + 1 + 63) / 64 * 64 - 10 ))
  header="$header$(printf '%*s' $((len - ${#header} - 1)) '')"
  { printf '\x93NUMPY\x01\x00'; printf "$(le16 $len)"; printf '%s\n' "$header"; printf "$3"; } > "$1"
}
f32x4='\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'   # 1 2 3 4 as float32
# idx FILE TYPE DIMS... : header only; data appended by the caller.
idx_header() { local f="$1" type="$2"; shift 2; { printf "\x00\x00\x$type\x$(printf %02x $#)"; for d; do printf "$(be32 "$d")"; done; } > "$f"; }
# safetensors FILE HEADER_JSON DATA_PRINTF
safetensors() { { printf "$(le64 ${#2})"; printf '%s' "$2"; printf "$3"; } > "$1"; }

# ---- A good model (blobs: 2 features, 4 classes) to break one file at a time. ----
"$actlab" train --data blobs:200 --epochs 1 --hidden 4 --no-bn --threads 1 --out good_model >/dev/null 2>&1 ||
  { echo "gen_bad_input_table: cannot train the small good model" >&2; exit 2; }
npy good.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" "$f32x4"
signed_config="$(cat good_model/config.json)"
# Without the weights' digest (a line of its own), as a hand-written config: the cases that break the
# weights then meet the checks of the weights themselves rather than the digest's.
good_config="$(grep -v '"weights_sha256"' good_model/config.json)"
weights_len=$(od -An -t u8 -N 8 good_model/model.safetensors | tr -d ' ')
good_header="$(dd if=good_model/model.safetensors bs=1 skip=8 count="$weights_len" 2>/dev/null)"
# model DIR CONFIG_TEXT [SAFETENSORS_FILE]: a model folder with this config (and weights, default the good ones).
model() { mkdir -p "$1"; printf '%s' "$2" > "$1/config.json"; cp "${3:-good_model/model.safetensors}" "$1/model.safetensors"; }
config_with() { printf '%s' "$good_config" | sed "$1"; }   # the good config through a sed script
# weights_with DIR SED: the good weights with their JSON header edited (same length, spaces appended).
weights_with() {
  local h; h="$(printf '%s' "$good_header" | sed "$2")"
  model "$1" "$good_config" /dev/null
  { printf "$(le64 ${#h})"; printf '%s' "$h"; dd if=good_model/model.safetensors bs=1 skip=$((8 + weights_len)) 2>/dev/null; } > "$1/model.safetensors"
}
# mnist DIR: a valid small IDX set (2 train, 1 test images of 2x2, labels < 10); callers then break a file.
mnist() {
  mkdir -p "$1"
  idx_header "$1/train-images-idx3-ubyte" 08 2 2 2; printf '\x00\x01\x02\x03\x04\x05\x06\x07' >> "$1/train-images-idx3-ubyte"
  idx_header "$1/train-labels-idx1-ubyte" 08 2; printf '\x01\x02' >> "$1/train-labels-idx1-ubyte"
  idx_header "$1/t10k-images-idx3-ubyte" 08 1 2 2; printf '\x00\x01\x02\x03' >> "$1/t10k-images-idx3-ubyte"
  idx_header "$1/t10k-labels-idx1-ubyte" 08 1; printf '\x03' >> "$1/t10k-labels-idx1-ubyte"
}

# ---- The cases: case AREA "WHAT" actlab ARGS... ----
rows=()
failures=0
total=0
gaps=()
# known_gap AREA WHAT REASON actlab ARGS...: a case that breaks the contract today, on record with the
# reason; it is run and tabled like the others, but --check only reports it (fix it, then make it a run_case).
known_gap() {
  local area="$1" what="$2" reason="$3"; shift 3
  gap_reason="$reason"
  run_case "$area" "$what" "$@"
  gap_reason=""
}
gap_reason=""
run_case() {
  local area="$1" what="$2"; shift 2
  total=$((total + 1))
  local before after rc=0 err out
  before="$(find . -path ./good_model -prune -o -print | sort)"
  "$actlab" "$@" >stdout.txt 2>stderr.txt || rc=$?
  err="$(cat stderr.txt)" out="$(cat stdout.txt)"
  rm -f stdout.txt stderr.txt
  after="$(find . -path ./good_model -prune -o -print | sort)"
  local left; left="$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | tr '\n' ' ')"
  local lines; lines=$(printf '%s' "$err" | grep -c '' || true)
  local problems=()
  [ "$rc" -ne 0 ] || problems+=("exit status 0")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr")
  [[ "$err" == "actlab: error: "* ]] || problems+=("stderr does not start with 'actlab: error: '")
  [ -z "$left" ] || problems+=("left behind: $left")
  if [ -n "$gap_reason" ]; then
    gaps+=("$area: $what: $gap_reason")
    [ ${#problems[@]} -ne 0 ] || printf 'NOTE %s: %s: now keeps the contract; make it a run_case\n' "$area" "$what" >&2
  elif [ ${#problems[@]} -ne 0 ]; then
    failures=$((failures + 1))
    printf 'FAIL %s: %s: actlab %s\n  %s\n  stderr: %s\n' "$area" "$what" "$*" "$(IFS=';'; echo "${problems[*]}")" "$err" >&2
  fi
  rm -rf ./out ./out.npy ./dx.npy ./model_out  # whatever a failing case wrote, so the next case starts clean
  local cmd="actlab $*"
  # Data sources are named by absolute path in some messages: the scratch folder is left out, so the
  # table reads the same on every run and machine.
  # So are digests of trained weights, which differ between instruction sets.
  local shown="${err//"$work/"/}"
  shown="$(printf '%s' "$shown" | sed -E 's/[0-9a-f]{12}\.\.\./<digest>.../g')"
  rows+=("| $area | $what | $(md_code "$cmd") | $rc | $(md_code "$shown") |")
}
# A table cell with TEXT as code: control characters shown as \n, \r, \xNN; pipes escaped.
md_code() {
  local s; s="$(printf '%s' "$1" | sed -e ':a;N;$!ba;s/\n/\\n/g' -e 's/\r/\\r/g' -e 's/|/\\|/g')"
  printf '``%s``' " $s "
}

# NPY arrays: actlab apply (and predict) read them.
A() { run_case "npy (apply)" "$1" apply relu --input "$2" --output out.npy; }
A "missing file" missing.npy
bytes empty.npy '';                                           A "empty file" empty.npy
mkdir -p a_dir.npy;                                           A "a directory where a file should be" a_dir.npy
bytes magic.npy 'PK\x03\x04 not numpy at all';                A "bad magic (a zip file)" magic.npy
bytes short.npy '\x93NUMPY\x01';                              A "truncated before the header length" short.npy
bytes lying_len.npy '\x93NUMPY\x01\x00\xff\xff{}';            A "header length that lies (65535, file is 12 bytes)" lying_len.npy
bytes version.npy '\x93NUMPY\x09\x00\x10\x00{}';              A "unsupported version 9.0" version.npy
npy no_shape.npy "{'descr': '<f4', 'fortran_order': False, }" "";             A "header without 'shape'" no_shape.npy
npy not_dict.npy "[1, 2, 3]" "";                                              A "header that is not a dict" not_dict.npy
npy dup_key.npy "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" '\x00\x00\x80\x3f'; A "key given twice" dup_key.npy
npy fortran.npy "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }" "$f32x4";   A "Fortran order" fortran.npy
npy big_endian.npy "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }" "$f32x4"; A "big-endian dtype" big_endian.npy
npy object.npy "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }" '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'; A "object dtype (pickled Python objects)" object.npy
npy complex.npy "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }" "$f32x4";    A "wrong dtype: complex64" complex.npy
npy bool.npy "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }" '\x00\x01';     A "wrong dtype: bool" bool.npy
npy structured.npy "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }" '\x00\x00\x80\x3f'; A "structured dtype" structured.npy
npy truncated.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }" "$f32x4";  A "data truncated (shape needs 32 bytes, 16 present)" truncated.npy
npy trailing.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" "$f32x4";   A "trailing data after the array" trailing.npy
npy overflow.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }" ""; A "dims whose product overflows 64 bits" overflow.npy
npy huge_dim.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }" ""; A "a dimension beyond 64 bits" huge_dim.npy
npy negative.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }" "";        A "negative dimension" negative.npy
run_case "npy (apply)" "--grad-output of another shape" apply relu --input good.npy --output out.npy --grad-output truncated.npy --grad-input dx.npy
npy dy.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" "$f32x4"
run_case "npy (apply)" "--grad-output of another shape" apply relu --input good.npy --output out.npy --grad-output dy.npy --grad-input dx.npy
run_case "npy (apply)" "output into a missing folder" apply relu --input good.npy --output no_such_dir/out.npy

# NPY for predict: the input must fit the model ([N, 2] here).
npy three.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }" '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f'
run_case "npy (predict)" "input of the wrong width" predict --model good_model --input three.npy --output out.npy
npy nan.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }" '\x00\x00\xc0\x7f\x00\x00\x80\x3f'
run_case "npy (predict)" "NaN in the input" predict --model good_model --input nan.npy --output out.npy
npy inf.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\xff'
run_case "npy (predict)" "-inf in the input" predict --model good_model --input inf.npy --output out.npy

# Activation SPECs (actlab apply SPEC).
S() { run_case "activation spec (apply)" "$1" apply "$2" --input good.npy --output out.npy; }
S "unknown activation" swish
S "unknown parameter" "elu:beta=2"
S "not a number" "leaky_relu:negative_slope=abc"
S "NaN parameter" "elu:alpha=nan"
S "infinite parameter" "elu:alpha=inf"
S "out of range" "celu:alpha=0"
S "parameter given twice" "elu:alpha=1,alpha=2"
S "nothing after ':'" "elu:"
S "missing '='" "elu:alpha"
S "unknown choice" "gelu:approximate=erf"
S "inconsistent parameters (lower > upper)" "rrelu:lower=0.3,upper=0.1"
run_case "activation spec (apply)" "control characters in the spec" apply $'relu\nrm -rf /\r' --input good.npy --output out.npy
run_case "activation spec (apply)" "--param-grad of an activation without one" apply relu --input good.npy --output out.npy --grad-output good.npy --grad-input dx.npy --param-grad dp.npy

# Model SPECs (actlab train --model).
M() { run_case "model spec (train)" "$1" train --data blobs:50 --epochs 1 --threads 1 --out model_out --model "$2"; }
M "unmatched '('" "linear(4,relu"
M "unmatched ')'" "linear(4)),relu"
M "empty layer" "linear(4),,linear(4)"
M "unknown layer type" "linear(4),swish,linear(4)"
M "linear without a width" "linear,linear(4)"
M "width 0" "linear(0)"
M "width not an integer" "linear(1e3)"
M "width above 2^24" "linear(16777217)"
M "unknown argument" "linear(4,bias=false)"
M "text after ')'" "linear(4)x"
M "in_features that disagrees with the data" "linear(in_features=3,out_features=4)"
M "batchnorm1d eps=0" "linear(4),batchnorm1d(eps=0)"
M "batchnorm1d eps that is 0 as a float32" "linear(4),batchnorm1d(eps=1e-50)"
M "dropout p=1" "linear(4),dropout(p=1),linear(4)"
M "dropout p that is 1 as a float32" "linear(4),dropout(p=0.999999999),linear(4)"
M "prelu init beyond float32" "linear(4),prelu(init=1e39),linear(4)"
M "prelu num_parameters that does not fit" "linear(4),prelu(num_parameters=3),linear(4)"
M "a model too large to allocate (2^48 weights)" "linear(16777216),linear(16777216)"
M "activation parameter out of range" "linear(4),celu(alpha=-1),linear(4)"
run_case "model spec (train)" "unknown recipe" train --data blobs:50 --epochs 1 --threads 1 --out model_out --recipe swish

# CSV data sets (actlab train --data csv:FILE).
C() { run_case "csv (train)" "$1" train --data "csv:$2" --epochs 1 --threads 1 --out model_out; }
C "missing file" missing.csv
bytes empty.csv '';                                C "empty file" empty.csv
bytes blank.csv ' \n\r\n\t\n';                     C "only blank lines" blank.csv
mkdir -p a_dir.csv;                                C "a directory where a file should be" a_dir.csv
bytes header_only.csv 'label,x\n';                 C "header, no rows" header_only.csv
bytes one_col.csv '1\n2\n3\n';                     C "one column" one_col.csv
bytes text.csv 'label,x\n0,1\n1,abc\n';            C "a field that is not a number" text.csv
bytes ragged.csv '0,1,2\n1,2\n';                   C "rows of different lengths" ragged.csv
bytes typo.csv '0,1O\n1,2\n0,3\n1,4\n0,5\n';          C "a first row of numbers and text (a typo, not a header)" typo.csv
bytes nan.csv '0,1\n1,nan\n0,2\n1,3\n0,4\n';       C "NaN in the data" nan.csv
bytes inf.csv '0,1\n1,-inf\n0,2\n1,3\n0,4\n';      C "inf in the data" inf.csv
bytes big.csv '0,1\n1,1e39\n0,2\n1,3\n0,4\n';      C "a value beyond float32" big.csv
bytes neg_label.csv '0,1\n-1,2\n0,2\n1,3\n0,4\n';  C "negative label" neg_label.csv
bytes big_label.csv '0,1\n256,2\n0,2\n1,3\n0,4\n'; C "label above 255" big_label.csv
bytes frac_label.csv '0,1\n1.5,2\n0,2\n1,3\n0,4\n';  C "fractional label" frac_label.csv
bytes few.csv '0,1\n1,2\n0,3\n';                   C "too few rows to split" few.csv
bytes binary.csv '\x00\x01\x02\xff\xfe\n\x00\n';   C "binary garbage" binary.csv
bytes many.csv '0,1,2\n1,2,3\n0,3,4\n1,4,5\n0,5,6\n'
bytes nul.csv '0,1,2\n1,3\x00,4\n0,5,6\n1,7,8\n0,9,10\n';              C "a NUL byte in a cell" nul.csv
run_case "csv (train)" "--model whose in_features disagrees with the file" train --data csv:many.csv --epochs 1 --threads 1 --out model_out --model "linear(in_features=3,out_features=2)"

# NPY data sets (actlab train --data npy:X,Y).
N() { run_case "npy data (train)" "$1" train --data "npy:$2" --epochs 1 --threads 1 --out model_out; }
npy x5.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 1), }" '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f'
npy y5.npy "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }" '\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
npy x5nan.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 1), }" '\x00\x00\x80\x3f\x00\x00\xc0\x7f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f'
npy x5inf.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 1), }" '\x00\x00\x80\x3f\x00\x00\x80\xff\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f'
npy y5neg.npy "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }" '\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
npy y5frac.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }" '\x00\x00\x00\x00\x00\x00\xc0\x3f\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x00'
npy y4.npy "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }" '\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'
npy x1d.npy "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" "$f32x4"
N "NaN in the features" x5nan.npy,y5.npy
N "inf in the features" x5inf.npy,y5.npy
N "negative label" x5.npy,y5neg.npy
N "fractional label" x5.npy,y5frac.npy
N "label count differs from the rows" x5.npy,y4.npy
N "features of one dimension" x1d.npy,y4.npy
N "no comma" x5.npy
N "a missing file" x5.npy,missing.npy

# IDX image sets (actlab train --data mnist:DIR).
I() { run_case "idx (train)" "$1" train --data "mnist:$2" --epochs 1 --threads 1 --out model_out; }
mkdir -p no_idx;                                                         I "folder without the files" no_idx
mnist m_magic; bytes m_magic/train-images-idx3-ubyte 'GIF89a\x01\x00\x01\x00';      I "bad magic" m_magic
mnist m_type; idx_header m_type/train-images-idx3-ubyte 0d 2 2 2;        I "element type float (0x0d)" m_type
mnist m_ndim; idx_header m_ndim/train-images-idx3-ubyte 08;              I "zero dimensions" m_ndim
mnist m_short; bytes m_short/train-images-idx3-ubyte '\x00\x00\x08\x03\x00\x00'; I "truncated header" m_short
mnist m_trunc; idx_header m_trunc/train-images-idx3-ubyte 08 60000 28 28; printf '\x00\x01' >> m_trunc/train-images-idx3-ubyte; I "dims that lie (data truncated)" m_trunc
mnist m_trail; printf 'junk' >> m_trail/train-labels-idx1-ubyte;        I "trailing data" m_trail
mnist m_ovf; idx_header m_ovf/train-images-idx3-ubyte 08 4294967295 4294967295 4294967295 4294967295; I "dims whose product overflows 64 bits" m_ovf
mnist m_label; idx_header m_label/train-labels-idx1-ubyte 08 2; printf '\x01\x0a' >> m_label/train-labels-idx1-ubyte; I "label out of range (10)" m_label
mnist m_count; idx_header m_count/train-labels-idx1-ubyte 08 3; printf '\x01\x02\x03' >> m_count/train-labels-idx1-ubyte; I "label count differs from the images" m_count
mnist m_1d; idx_header m_1d/train-images-idx3-ubyte 08 4; printf '\x00\x01\x02\x03' >> m_1d/train-images-idx3-ubyte; I "images of one dimension" m_1d
mnist m_width; idx_header m_width/t10k-images-idx3-ubyte 08 1 3 3; printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08' >> m_width/t10k-images-idx3-ubyte; I "test images of another size" m_width
mnist m_gz; gzip -9 -n m_gz/train-images-idx3-ubyte; head -c 20 m_gz/train-images-idx3-ubyte.gz > m_gz/t && mv m_gz/t m_gz/train-images-idx3-ubyte.gz; I "gzip truncated" m_gz
mnist m_gzbad; gzip -9 -n m_gzbad/train-images-idx3-ubyte; printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-not-deflate' > m_gzbad/train-images-idx3-ubyte.gz; I "gzip corrupt" m_gzbad
mnist m_dir; rm m_dir/train-images-idx3-ubyte; mkdir m_dir/train-images-idx3-ubyte; I "a directory where a file should be" m_dir

# Model folders: config.json (actlab eval --model DIR).
E() { run_case "config.json (eval)" "$1" eval --model "$2" --data blobs:50; }
E "missing folder" no_such_model
mkdir -p m_noconf; cp good_model/model.safetensors m_noconf/;                          E "folder without config.json" m_noconf
printf 'x' > a_file;                                                                   E "a file where the folder should be" a_file
model c_empty "";                                                                      E "empty config.json" c_empty
model c_json '{"format": "actlab-model", "version": 1,';                               E "config.json that is not JSON (truncated)" c_json
model c_array '[1, 2, 3]';                                                             E "config.json that is not an object" c_array
model c_format "$(config_with 's/"actlab-model"/"keras"/')";                           E "wrong \"format\"" c_format
model c_format_num "$(config_with 's/"actlab-model"/5/')";                              E "\"format\" that is a number" c_format_num
model c_version "$(config_with 's/"version": 1/"version": 2/')";                       E "unsupported version" c_version
model c_in "$(config_with 's/"in_features": 2,/"in_features": -2,/')";                 E "negative in_features" c_in
model c_in_str "$(config_with 's/"in_features": 2,/"in_features": "2",/')";            E "in_features as a string" c_in_str
model c_layers '{"format": "actlab-model", "version": 1, "in_features": 2, "layers": []}'; E "no layers" c_layers
model c_type "$(config_with '0,/"type": "linear"/s//"type": "conv2d"/')";               E "unknown layer type" c_type
model c_type_num "$(config_with '0,/"type": "linear"/s//"type": 3/')";                  E "layer type that is not a string" c_type_num
model c_key "$(config_with '0,/"type": "linear",/s//"type": "linear", "bias": false,/')"; E "argument that is neither number nor string" c_key
model c_unknown_key "$(config_with '0,/"type": "linear",/s//"type": "linear", "bias": 1,/')"; E "unknown argument" c_unknown_key
model c_chain "$(config_with '0,/"in_features": 2,/s//"in_features": 3,/')";           E "widths that do not chain" c_chain
model c_out "$(config_with 's/"out_features": 4,/"out_features": 5,/')";              E "out_features that disagrees with the layers" c_out
model c_huge '{"format": "actlab-model", "version": 1, "in_features": 16777216, "layers": [{"type": "linear", "out_features": 16777216}]}'; E "a model too large to allocate (2^48 weights)" c_huge
model c_scale "$(config_with 's/"scale": [^,}]*/"scale": "x"/')";                      E "input_scaling that is not a number" c_scale
model c_scale_big "$(config_with 's/"scale": [^,}]*/"scale": 1e300/')";                E "input_scaling beyond float32" c_scale_big
model c_digest "$(printf '%s' "$signed_config" | sed 's/"weights_sha256": "[0-9a-f]*"/"weights_sha256": "xyz"/')"; E "weights_sha256 that is not 64 hex digits" c_digest
bytes wide.csv '0,1,2,3\n1,2,3,4\n0,3,4,5\n1,4,5,6\n0,5,6,7\n'
deep="$(head -c 1000000 /dev/zero | tr '\0' '[')$(head -c 1000000 /dev/zero | tr '\0' ']')"  # [[[...]]], 10^6 levels
model c_deep "{\"format\": \"actlab-model\", \"version\": 1, \"in_features\": 2, \"layers\": [{\"type\": \"relu\"}], \"out_features\": $deep}"; E "a value nested a million levels deep" c_deep
run_case "config.json (eval)" "data of another width than the model" eval --model good_model --data csv:wide.csv

# Model folders: model.safetensors (actlab eval --model DIR).
W() { run_case "model.safetensors (eval)" "$1" eval --model "$2" --data blobs:50; }
mkdir -p w_missing; printf '%s' "$good_config" > w_missing/config.json;                W "missing model.safetensors" w_missing
model w_empty "$good_config" /dev/null;                                                 W "empty file" w_empty
model w_short "$good_config" /dev/null; printf '\x10\x00\x00' > w_short/model.safetensors; W "shorter than the header length" w_short
model w_lie "$good_config" /dev/null; { printf "$(le64 1000000)"; printf '{}'; } > w_lie/model.safetensors; W "header length that lies" w_lie
model w_huge "$good_config" /dev/null; { printf '\xff\xff\xff\xff\xff\xff\xff\xff'; printf '{}'; } > w_huge/model.safetensors; W "header length 2^64-1" w_huge
model w_json "$good_config" /dev/null; safetensors w_json/model.safetensors '{"0.weight": ' ''; W "header that is not JSON" w_json
model w_array "$good_config" /dev/null; safetensors w_array/model.safetensors '[]' '';  W "header that is not an object" w_array
model w_deep "$good_config" /dev/null; safetensors w_deep/model.safetensors "{\"a\": {\"dtype\": \"F32\", \"shape\": [$deep], \"data_offsets\": [0, 0]}}" ''; W "a value nested a million levels deep" w_deep
weights_with w_dtype 's/"F32"/"F16"/';                                                  W "unsupported dtype (F16)" w_dtype
weights_with w_offsets 's/"data_offsets":\[0,/"data_offsets":[9999999,/';               W "data_offsets outside the data" w_offsets
weights_with w_shape 's/"shape":\[4,2\]/"shape":[2,4]/';                                W "tensor of the wrong shape" w_shape
weights_with w_name 's/"0.weight"/"0.wieght"/';                                        W "misnamed tensor" w_name
weights_with w_negshape 's/"shape":\[4,2\]/"shape":[-4,2]/';                            W "negative dimension" w_negshape
model w_nan "$good_config"; printf '\x00\x00\xc0\x7f' | dd of=w_nan/model.safetensors bs=1 seek=$((8 + weights_len)) conv=notrunc 2>/dev/null; W "NaN in a weight" w_nan
model w_trunc "$good_config"; head -c -4 good_model/model.safetensors > w_trunc/model.safetensors; W "data section truncated" w_trunc
model w_extra "$good_config"; printf 'xxxx' >> w_extra/model.safetensors;               W "bytes after the last tensor" w_extra
model w_other "$signed_config"; printf '\x00\x00\x80\x3f' | dd of=w_other/model.safetensors bs=1 seek=$((8 + weights_len)) conv=notrunc 2>/dev/null; W "weights from another save (config.json's digest disagrees)" w_other

# Checkpoints (actlab train --resume DIR): metadata records that are not what a checkpoint holds.
# checkpoint DIR 'METADATA_JSON_MEMBERS': a checkpoint without tensors (the records are read first).
checkpoint() { mkdir -p "$1"; safetensors "$1/checkpoint.safetensors" "{\"__metadata__\": {\"format\": \"actlab-checkpoint-1\", $2}}" ''; }
R() { run_case "checkpoint (train --resume)" "$1" train --resume "$2"; }
mkdir -p k_none;                                                                                R "folder without a checkpoint" k_none
mkdir -p k_format; safetensors k_format/checkpoint.safetensors '{"__metadata__": {"format": "pt"}}' ''; R "a weights file, not a checkpoint" k_format
checkpoint k_prog_json '"model_config": "{}", "train_config": "{}", "progress": "{\"epoch\": 1,"';  R "progress record that is not JSON" k_prog_json
checkpoint k_prog_none '"model_config": "{}", "train_config": "{}"';                              R "no progress record" k_prog_none
checkpoint k_conf_json '"model_config": "{}", "train_config": "[1, 2", "progress": "{}"';          R "train_config record that is not JSON" k_conf_json
checkpoint k_conf_type '"model_config": "{}", "train_config": "{\"epochs\": \"3\"}", "progress": "{}"'; R "train_config: epochs as a string" k_conf_type
checkpoint k_conf_frac '"model_config": "{}", "train_config": "{\"epochs\": 2.5}", "progress": "{}"'; R "train_config: epochs 2.5" k_conf_frac
checkpoint k_conf_neg '"model_config": "{}", "train_config": "{\"epochs\": 2, \"batch\": -1}", "progress": "{}"'; R "train_config: batch -1" k_conf_neg
checkpoint k_model_none '"train_config": "{}", "progress": "{}"';                                  R "no model_config record" k_model_none
# A real checkpoint (a run that diverges keeps its last good one), its diagnostics record edited to
# name other layers (same length, so the file stays valid).
"$actlab" train --data blobs:200 --epochs 3 --hidden 4 --no-bn --threads 1 --lr 1e30 --checkpoint-every 1 --out k_diag >/dev/null 2>&1 || true
[ -f k_diag/checkpoint.safetensors ] || { echo "gen_bad_input_table: the diverging run left no checkpoint" >&2; exit 2; }
sed -i '0,/watched\\":\[1,/s//watched\\":[7,/' k_diag/checkpoint.safetensors
grep -aq 'watched\\":\[7,' k_diag/checkpoint.safetensors || { echo "gen_bad_input_table: cannot edit the diagnostics record" >&2; exit 2; }
R "diagnostics record of another model" k_diag

# Output paths.
mkfifo fifo.npy
run_case "output" "--out that is an existing file" train --data blobs:50 --epochs 1 --threads 1 --recipe relu --out a_file
run_case "output" "--out inside an existing file" train --data blobs:50 --epochs 1 --threads 1 --recipe relu --out a_file/run
mkdir -p unfinished; printf 'x' > unfinished/checkpoint.safetensors
run_case "output" "a new run into a folder with an unfinished run's checkpoint" train --data blobs:50 --epochs 1 --threads 1 --out unfinished
run_case "output" "a FIFO that no process reads from" apply relu --input good.npy --output fifo.npy
run_case "output" "predict into a folder that does not exist" predict --model good_model --input good.npy --output no_such_dir/y.npy

# plot-activations: the grid runs in float32.
run_case "output" "plot range beyond float32" plot-activations relu --range=-1e300,1e300 --out fig.svg
run_case "output" "plot range too narrow for float32" plot-activations relu --range=0,1e-300 --out fig.svg
mkdir -p a_dir.svg; run_case "output" "plot into a folder's name" plot-activations relu --out a_dir.svg
run_case "output" "plot of an activation listed twice" plot-activations relu relu --out fig.svg
run_case "output" "compare into a file" compare --recipes relu --data blobs:50 --epochs 1 --seeds 1 --out a_file

# Command-line options (parsed by CLI11 before any actlab code runs; usage errors exit with 2).
U() { run_case "options" "$@"; }
U "value out of range" train --data blobs:50 --epochs 0 --out model_out
U "not a number" train --data blobs:50 --lr abc --out model_out
U "not a number for an integer option" train --data blobs:50 --seed 1.5 --out model_out
U "unknown option" train --data blobs:50 --epochs 1 --learning-rate 0.1 --out model_out
U "option without its value" train --data blobs:50 --out
U "missing required argument" apply --input good.npy --output out.npy
U "missing required option" predict --model good_model --input good.npy
U "unexpected extra argument" eval --model good_model extra
U "unknown subcommand" frobnicate
U "unknown option before the subcommand" --verbose train
U "no subcommand" 
U "negative value for a count" train --data blobs:50 --seed -1 --out model_out
U "count past 2^64-1" train --data blobs:50 --checkpoint-every 18446744073709551616 --out model_out
U "negative hidden width" train --data blobs:50 --hidden 8,-1 --out model_out
U "empty value" train --data blobs:50 --lr "" --out model_out
U "empty folder name" train --data blobs:50 --epochs 1 --out ""
run_case "options" "a setting given with --resume (even at its default)" train --resume k_none --epochs 10
run_case "options" "--momentum with adam" train --data blobs:50 --epochs 1 --threads 1 --optimizer adam --momentum 0.5 --out model_out
U "compare --target beyond 1" compare --target 5 --out model_out
run_case "options" "compare with a recipe listed twice" compare --recipes relu,elu,relu --data blobs:50 --epochs 1 --seeds 1 --out model_out
U "search --first-epochs 0" search --first-epochs 0 --out model_out
U "compare into an empty folder name" compare --recipes relu --data blobs:50 --epochs 1 --seeds 1 --out ""
run_case "options" "search with an activation listed twice" search --activations relu,relu --data blobs:50 --epochs 1 --seeds 1 --out model_out
run_case "options" "search with a recipe as an activation" search --activations seed,relu --data blobs:50 --epochs 1 --seeds 1 --out model_out
U "plot grid points that are not whole" plot-activations relu --points 2.5 --out fig.svg
run_case "options" "negative learning rate" train --data blobs:50 --epochs 1 --threads 1 --lr -1 --out model_out
run_case "options" "NaN learning rate" train --data blobs:50 --epochs 1 --threads 1 --lr nan --out model_out
run_case "options" "infinite weight decay" train --data blobs:50 --epochs 1 --threads 1 --weight-decay inf --out model_out

# ---- Report. ----
if [ "$check" -eq 1 ]; then
  [ ${#gaps[@]} -eq 0 ] || printf 'known gap (not failing): %s\n' "${gaps[@]}"
  if [ "$failures" -ne 0 ]; then echo "bad input: $failures of $total cases break the contract" >&2; exit 1; fi
  echo "bad input: $((total - ${#gaps[@]})) of $total cases exit non-zero with one 'actlab: error: ' line and leave nothing behind; ${#gaps[@]} known gaps"
  exit 0
fi
{
  echo "# Bad input: what actlab says"
  echo
  echo "Every class of bad input we tried, fed to the real command line, with the one line it prints on"
  echo "stderr and its exit status. Generated by \`tools/gen_bad_input_table.sh\` (the bad files are made"
  echo "there, in a scratch folder, and named by relative paths); \`tools/gen_bad_input_table.sh --check\`"
  echo "(the ctest test \`bad_input_cli\`) checks each case: non-zero exit, exactly one stderr line"
  echo "starting with \`actlab: error: \`, and no file left behind (no output, no temporary file)."
  echo "The readers and parsers behind these commands are also fuzzed: \`scripts/fuzz.sh\`."
  echo "Control characters in a message are shown here as \`\\n\`, \`\\r\`."
  echo
  echo "$total cases; ${#gaps[@]} known gaps$([ ${#gaps[@]} -eq 0 ] || echo " (listed at the end)"); $failures other cases break the contract."
  echo
  echo "| input | bad input | command | exit | message |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  if [ ${#gaps[@]} -ne 0 ]; then
    echo
    echo "## Known gaps"
    echo
    echo "Cases in the table above that do not keep the contract yet (the check reports them without failing):"
    echo
    printf -- '- %s\n' "${gaps[@]}"
  fi
} > "$out_md"
echo "wrote $out_md ($total cases, $failures breaking the contract)"
[ "$failures" -eq 0 ]
