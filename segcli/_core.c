/* segcli's private C core: the per-batch loops that numpy cannot do in one
 * pass, each over numpy buffers with the GIL released.  Python (encode.py,
 * decode.py, writer.py) does the validation and policy and calls these.
 *
 * - build / find: hash-table lookup of positive int64 keys for
 *   segcli.encode.KeyIndex (open addressing, Fibonacci hashing, linear
 *   probing, key 0 marks an empty slot, so a zeroed table is empty): one pass per key where numpy needs several over the whole array.
 * - classify: a batch's whitespace, lookup form, and the ids of the
 *   characters the model sees, in one pass over its code points.
 * - grams: the keys of every n-gram of a batch, made and looked up in one
 *   pass per length (a longer one only where a shorter one is a word's prefix).
 * - word_matches: the word-match feature matrix from the lookups' flags.
 * - atom_runs / constrain: the runs of characters an atom can be made of
 *   (the regular expression runs over them alone), and atoms' spans ruled
 *   out of the tag scores.
 * - pack_rows / unpack_rows: sequences laid into the scorer's overlapping
 *   rows, and each position's scores taken back from its own row.
 * - viterbi: constrained Viterbi over the four tags s=0, b=1, m=2, e=3.
 * - render_text: a batch's words, delimited, as UTF-8 output bytes.
 * - words: a batch's words as lists of str (the API's answer; it holds the
 *   GIL, as making Python objects must, but does nothing else per word).
 *
 * Each has a numpy or Python twin in tests/ that hypothesis tests hold it to
 * (reference_lookup.py for build, find and grams, reference_viterbi.py, reference_render.py, and in
 * test_encode.py for word_matches; a filtered lookup is held to an unfiltered one).
 * Every buffer size and bound is checked here too, because memory safety must
 * not depend on the caller.
 *
 * Viterbi tie-breaking (documented contract, mirrored by
 * tests/reference_viterbi.py): predecessors are scanned in index order with a
 * strict '>', so the first maximum wins; the final tag is s unless e is
 * strictly greater.  Each choice starts from the first legal candidate, so
 * NaN comparisons (always false) can only ever keep a legal tag: the output
 * is a legal sequence for any input.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY 0  /* the key of an empty slot: keys are positive */
#define MULTIPLIER 0x9E3779B97F4A7C15ULL

/* A key's first slot in a table of 2^bits slots (Fibonacci hashing). */
static inline uint64_t
slot_of(int64_t key, int bits)
{
	return ((uint64_t)key * MULTIPLIER) >> (64 - bits);
}

static int
check_buffer(const Py_buffer *buf, Py_ssize_t itemsize, const char *what)
{
	if (buf->itemsize != itemsize || buf->len % itemsize != 0) {
		PyErr_Format(PyExc_ValueError,
		             "%s: expected %zd-byte items, got itemsize %zd and "
		             "%zd bytes", what, itemsize, buf->itemsize, buf->len);
		return -1;
	}
	if ((uintptr_t)buf->buf % (uintptr_t)itemsize != 0) {
		PyErr_Format(PyExc_ValueError, "%s: buffer is not aligned", what);
		return -1;
	}
	return 0;
}

/* --- hash tables ------------------------------------------------------- */

/* A table is one int64 array of 2 * size items, slot i's key at 2i and its
 * value at 2i + 1: a probe reads both from one cache line (two arrays cost a
 * second cache miss a lookup).  Checks a table and returns its slot count,
 * or -1 with an exception set. */
static Py_ssize_t
table_slots(const Py_buffer *table)
{
	Py_ssize_t size;
	if (check_buffer(table, sizeof(int64_t), "table") < 0)
		return -1;
	size = table->len / (Py_ssize_t)(2 * sizeof(int64_t));
	if (table->len % (Py_ssize_t)(2 * sizeof(int64_t)) != 0 || size < 2 || (size & (size - 1)) != 0) {
		PyErr_SetString(PyExc_ValueError, "table: length is not twice a power of two >= 2");
		return -1;
	}
	return size;
}

static int
bits_of(Py_ssize_t size)
{
	int bits = 0;
	while (((Py_ssize_t)1 << bits) < size)
		bits++;
	return bits;
}

/* A filter is a bitmap of a power-of-two number of bits, at least 64: bit
 * FILTER_BIT(key) is set for every key in the table, so a clear bit proves a
 * key absent without touching the table.  Most word-length keys are absent,
 * and the filter (two bits a slot: 1/64 of the table's bytes) stays in cache
 * where the table cannot.  Its hash is independent of the slot's. An empty buffer: no filter. */
#define FILTER_MULTIPLIER 0xC2B2AE3D27D4EB4FULL
#define FILTER_BIT(key, fbits) (((uint64_t)(key) * FILTER_MULTIPLIER) >> (64 - (fbits)))
#define PREFETCH_AHEAD 16  /* keys between a prefetch and its use */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)(address))
#endif

/* Checks a filter and returns its bit count's log2 (0: none), or -1 with an exception set. */
static int
filter_bits(const Py_buffer *filter)
{
	Py_ssize_t nbits;
	if (filter->len == 0)
		return 0;
	if (check_buffer(filter, sizeof(uint64_t), "filter") < 0)
		return -1;
	nbits = filter->len * 8;
	if (nbits < 64 || (nbits & (nbits - 1)) != 0) {
		PyErr_SetString(PyExc_ValueError, "filter: bit count is not a power of two >= 64");
		return -1;
	}
	return bits_of(nbits);
}

/* The value stored for key in a table of `size` slots (2^bits) with its
 * filter (fbits 0: none), or `missing`.  A full table (only if another
 * thread rewrote it) must not loop for ever: the probe then stops and sets
 * *raced. */
static inline int64_t
probe(const int64_t *t, const uint64_t *f, int bits, int fbits, Py_ssize_t size, int64_t key, int64_t missing,
      int *raced)
{
	uint64_t slot = slot_of(key, bits);  /* before the filter's load returns: the two overlap */
	const uint64_t mask = (uint64_t)size - 1;
	Py_ssize_t probes = 0;
	if (fbits) {
		uint64_t fb = FILTER_BIT(key, fbits);
		if (!((f[fb >> 6] >> (fb & 63)) & 1))
			return missing;
	}
	while (t[2 * slot] != EMPTY) {
		if (t[2 * slot] == key)
			return t[2 * slot + 1];
		slot = (slot + 1) & mask;
		if (++probes == size) {
			*raced = 1;
			break;
		}
	}
	return missing;
}

/* Between batches the model's run evicts the tables from the cache, so each
 * lookup is a cache miss: asking for the slot of a key PREFETCH_AHEAD on
 * (where its filter bit lets it be there), and for the filter word of one
 * twice as far, lets those misses overlap instead of queueing one after
 * another. */
static inline void
prefetch_slot(const int64_t *t, const uint64_t *f, int bits, int fbits, int64_t key)
{
	if (fbits) {
		uint64_t fb = FILTER_BIT(key, fbits);
		if (!((f[fb >> 6] >> (fb & 63)) & 1))
			return;
	}
	PREFETCH(&t[2 * slot_of(key, bits)]);
}

PyDoc_STRVAR(find_doc,
"find(table, filter, keys, missing, out) -> None\n\
\n\
For each key, the value stored beside it in the table, or `missing`.\n\
filter: the table's filter (see build), or empty for none.\n\
table: int64, key and value of each slot side by side, a power-of-two\n\
number of slots (empty ones hold key 0); keys, out: int64 arrays of the\n\
same length.");

static PyObject *
find(PyObject *self, PyObject *args)
{
	Py_buffer table, filter, keys, out;
	long long missing;
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits, fbits, raced = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*Lw*:find", &table, &filter, &keys, &missing, &out))
		return NULL;
	if ((size = table_slots(&table)) < 0 || (fbits = filter_bits(&filter)) < 0 ||
	    check_buffer(&keys, sizeof(int64_t), "keys") < 0 || check_buffer(&out, sizeof(int64_t), "out") < 0)
		goto done;
	n = keys.len / (Py_ssize_t)sizeof(int64_t);
	if (out.len != keys.len) {
		PyErr_SetString(PyExc_ValueError, "out and keys differ in length");
		goto done;
	}
	bits = bits_of(size);

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *t = (const int64_t *)table.buf;
		const uint64_t *f = (const uint64_t *)filter.buf;
		const int64_t *k = (const int64_t *)keys.buf;
		int64_t *o = (int64_t *)out.buf;
		for (i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n)
				prefetch_slot(t, f, bits, fbits, k[i + PREFETCH_AHEAD]);
			if (fbits && i + 2 * PREFETCH_AHEAD < n)
				PREFETCH(&f[FILTER_BIT(k[i + 2 * PREFETCH_AHEAD], fbits) >> 6]);
			o[i] = probe(t, f, bits, fbits, size, k[i], (int64_t)missing, &raced);
		}
	}
	Py_END_ALLOW_THREADS

	if (raced) {
		PyErr_SetString(PyExc_ValueError, "table has no empty slot");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;
done:
	PyBuffer_Release(&table);
	PyBuffer_Release(&filter);
	PyBuffer_Release(&keys);
	PyBuffer_Release(&out);
	return result;
}

PyDoc_STRVAR(build_doc,
"build(keys, values, table, filter) -> None\n\
\n\
Fills an empty (zeroed) table with keys[i] -> values[i]; a key given\n\
more than once gets the bitwise OR of its values.  keys: positive int64; values: int64, as many; table: writable int64, key\n\
and value of each slot side by side, more slots than keys; filter:\n\
writable zeroed uint64 bitmap of a power-of-two number of bits, or empty.");

static PyObject *
build(PyObject *self, PyObject *args)
{
	Py_buffer keys, values, table, filter;
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits, fbits, bad = 0;

	if (!PyArg_ParseTuple(args, "y*y*w*w*:build", &keys, &values, &table, &filter))
		return NULL;
	if (check_buffer(&keys, sizeof(int64_t), "keys") < 0 || check_buffer(&values, sizeof(int64_t), "values") < 0 ||
	    (size = table_slots(&table)) < 0 || (fbits = filter_bits(&filter)) < 0)
		goto done;
	if (values.len != keys.len) {
		PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
		goto done;
	}
	n = keys.len / (Py_ssize_t)sizeof(int64_t);
	if (n >= size) {
		PyErr_SetString(PyExc_ValueError, "table: needs more slots than len(keys), a power of two above len");
		goto done;
	}
	bits = bits_of(size);

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *k = (const int64_t *)keys.buf, *v = (const int64_t *)values.buf;
		int64_t *t = (int64_t *)table.buf;
		uint64_t *f = (uint64_t *)filter.buf;
		const uint64_t mask = (uint64_t)size - 1;
		for (i = 0; i < n && !bad; i++) {
			uint64_t slot = slot_of(k[i], bits);
			Py_ssize_t probes = 0;
			if (k[i] <= 0) {
				bad = 1;
				break;
			}
			if (fbits) {
				uint64_t fb = FILTER_BIT(k[i], fbits);
				f[fb >> 6] |= (uint64_t)1 << (fb & 63);
			}
			while (t[2 * slot] != EMPTY && t[2 * slot] != k[i]) {
				if (++probes == size) {  /* not an empty table */
					bad = 1;
					break;
				}
				slot = (slot + 1) & mask;
			}
			if (bad)
				break;
			if (t[2 * slot] == k[i]) {
				t[2 * slot + 1] |= v[i];
			} else {
				t[2 * slot] = k[i];
				t[2 * slot + 1] = v[i];
			}
		}
	}
	Py_END_ALLOW_THREADS

	if (bad) {
		PyErr_SetString(PyExc_ValueError, "keys must be positive, into an empty table");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;
done:
	PyBuffer_Release(&keys);
	PyBuffer_Release(&values);
	PyBuffer_Release(&table);
	PyBuffer_Release(&filter);
	return result;
}

/* --- classify ------------------------------------------------------------- */

PyDoc_STRVAR(classify_doc,
"classify(cps, spaces, fold, ids, space, folded, kept, kept_ids) -> int\n\
\n\
One pass over a batch's code points: space[i] = spaces[cps[i]] (0 past\n\
the table); folded[i] = fold[cps[i]] (cps[i] itself past the table); and\n\
for each position that is not space, in order, its index into kept and\n\
ids[min(cps[i], len(ids) - 1)] into kept_ids.  Returns how many were kept.\n\
cps, fold, folded: uint32; spaces, space: uint8; ids, kept, kept_ids:\n\
int64; space, folded, kept and kept_ids as long as cps.");

static PyObject *
classify(PyObject *self, PyObject *args)
{
	Py_buffer cps, spaces, fold, ids, space, folded, kept, kept_ids;
	PyObject *result = NULL;
	Py_ssize_t n, nspaces, nfold, nids, i, count = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*w*w*:classify", &cps, &spaces, &fold, &ids, &space, &folded, &kept,
	                      &kept_ids))
		return NULL;
	if (check_buffer(&cps, sizeof(uint32_t), "cps") < 0 || check_buffer(&spaces, 1, "spaces") < 0 ||
	    check_buffer(&fold, sizeof(uint32_t), "fold") < 0 || check_buffer(&ids, sizeof(int64_t), "ids") < 0 ||
	    check_buffer(&space, 1, "space") < 0 || check_buffer(&folded, sizeof(uint32_t), "folded") < 0 ||
	    check_buffer(&kept, sizeof(int64_t), "kept") < 0 || check_buffer(&kept_ids, sizeof(int64_t), "kept_ids") < 0)
		goto done;
	n = cps.len / (Py_ssize_t)sizeof(uint32_t);
	nspaces = spaces.len;
	nfold = fold.len / (Py_ssize_t)sizeof(uint32_t);
	nids = ids.len / (Py_ssize_t)sizeof(int64_t);
	if (space.len != n || folded.len != cps.len || kept.len != n * (Py_ssize_t)sizeof(int64_t) ||
	    kept_ids.len != kept.len) {
		PyErr_SetString(PyExc_ValueError, "space, folded, kept and kept_ids must have one item per code point");
		goto done;
	}
	if (nids < 1) {
		PyErr_SetString(PyExc_ValueError, "ids must not be empty");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)cps.buf, *fo = (const uint32_t *)fold.buf;
		const uint8_t *sp = (const uint8_t *)spaces.buf;
		const int64_t *id = (const int64_t *)ids.buf;
		uint8_t *so = (uint8_t *)space.buf;
		uint32_t *fd = (uint32_t *)folded.buf;
		int64_t *ko = (int64_t *)kept.buf, *io = (int64_t *)kept_ids.buf;
		for (i = 0; i < n; i++) {
			uint32_t cp = c[i];
			/* size_t comparisons: a code point past 2^31 must not pass as negative where Py_ssize_t is 32 bits. */
			uint8_t is_space = (size_t)cp < (size_t)nspaces ? (sp[cp] != 0) : 0;
			so[i] = is_space;
			fd[i] = (size_t)cp < (size_t)nfold ? fo[cp] : cp;
			if (!is_space) {
				ko[count] = i;
				io[count] = id[(size_t)cp < (size_t)nids ? (size_t)cp : (size_t)(nids - 1)];
				count++;
			}
		}
	}
	Py_END_ALLOW_THREADS

	result = PyLong_FromSsize_t(count);
done:
	PyBuffer_Release(&cps);
	PyBuffer_Release(&spaces);
	PyBuffer_Release(&fold);
	PyBuffer_Release(&ids);
	PyBuffer_Release(&space);
	PyBuffer_Release(&folded);
	PyBuffer_Release(&kept);
	PyBuffer_Release(&kept_ids);
	return result;
}

/* --- Viterbi -------------------------------------------------------------- */

enum { S = 0, B = 1, M = 2, E = 3, NTAGS = 4 };

/* Legal predecessors of each tag, in increasing index order. */
static const int PRED[NTAGS][2] = {{S, E}, {S, E}, {B, M}, {B, M}};

/* Decodes one non-empty segment.  bp holds len*NTAGS bytes (row 0 unused). */
static void
decode_segment(const float *scores, const double *trans, Py_ssize_t len,
               uint8_t *bp, uint8_t *out)
{
	double delta[NTAGS], next[NTAGS];
	Py_ssize_t t;
	int j, k, tag;

	/* A segment may only start with s or b. */
	delta[S] = scores[S];
	delta[B] = scores[B];
	delta[M] = -INFINITY;
	delta[E] = -INFINITY;

	for (t = 1; t < len; t++) {
		const float *row = scores + t * NTAGS;
		uint8_t *bpt = bp + t * NTAGS;
		for (j = 0; j < NTAGS; j++) {
			int arg = PRED[j][0];
			double best = delta[arg] + trans[arg * NTAGS + j];
			for (k = 1; k < 2; k++) {
				int i = PRED[j][k];
				double v = delta[i] + trans[i * NTAGS + j];
				if (v > best) {
					best = v;
					arg = i;
				}
			}
			next[j] = best + (double)row[j];
			bpt[j] = (uint8_t)arg;
		}
		memcpy(delta, next, sizeof delta);
	}

	/* A segment may only end with s or e. */
	tag = delta[E] > delta[S] ? E : S;
	out[len - 1] = (uint8_t)tag;
	for (t = len - 1; t > 0; t--) {
		tag = bp[t * NTAGS + tag];
		out[t - 1] = (uint8_t)tag;
	}
}

PyDoc_STRVAR(viterbi_doc,
"viterbi(scores, starts, ends, transitions, out) -> None\n\
\n\
Constrained Viterbi over tags s=0, b=1, m=2, e=3.\n\
scores: float32 N x 4; starts, ends: int64, K each; transitions: float32\n\
4 x 4; out: writable uint8, N.  Segment k is rows [starts[k], ends[k]);\n\
rows outside every segment are not written.  Ties go to the lowest tag\n\
index.  Raises ValueError on bad sizes or bounds.");

static PyObject *
viterbi(PyObject *self, PyObject *args)
{
	Py_buffer scores, starts, ends, transbuf, out;
	PyObject *result = NULL;
	const float *sc;
	const int64_t *st, *en;
	uint8_t *o, *bp = NULL;
	double trans[NTAGS * NTAGS];
	Py_ssize_t n, nseg, k, maxlen = 0;
	int raced = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*y*w*:viterbi", &scores, &starts,
	                      &ends, &transbuf, &out))
		return NULL;

	if (check_buffer(&scores, sizeof(float), "scores") < 0 ||
	    check_buffer(&starts, sizeof(int64_t), "starts") < 0 ||
	    check_buffer(&ends, sizeof(int64_t), "ends") < 0 ||
	    check_buffer(&transbuf, sizeof(float), "transitions") < 0 ||
	    check_buffer(&out, 1, "out") < 0)
		goto done;
	if (scores.len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "scores: length is not a multiple of 4");
		goto done;
	}
	n = scores.len / (Py_ssize_t)(NTAGS * sizeof(float));
	if (transbuf.len != (Py_ssize_t)(NTAGS * NTAGS * sizeof(float))) {
		PyErr_SetString(PyExc_ValueError, "transitions: expected 16 items");
		goto done;
	}
	if (starts.len != ends.len) {
		PyErr_SetString(PyExc_ValueError, "starts and ends differ in length");
		goto done;
	}
	if (out.len != n) {
		PyErr_Format(PyExc_ValueError, "out: expected %zd items, got %zd",
		             n, out.len);
		goto done;
	}

	sc = (const float *)scores.buf;
	st = (const int64_t *)starts.buf;
	en = (const int64_t *)ends.buf;
	o = (uint8_t *)out.buf;
	nseg = starts.len / (Py_ssize_t)sizeof(int64_t);
	for (k = 0; k < NTAGS * NTAGS; k++)
		trans[k] = ((const float *)transbuf.buf)[k];

	/* Validate everything before writing anything. */
	for (k = 0; k < nseg; k++) {
		int64_t s = st[k], e = en[k];
		if (s < 0 || s > e || e > (int64_t)n) {
			PyErr_Format(PyExc_ValueError,
			             "segment %zd: [%lld, %lld) is not within [0, %zd]",
			             k, (long long)s, (long long)e, n);
			goto done;
		}
		if (e - s > maxlen)
			maxlen = (Py_ssize_t)(e - s);
	}

	if (maxlen > 0) {
		/* maxlen <= n and n * 16 bytes already exist, so this cannot overflow. */
		bp = (uint8_t *)malloc((size_t)maxlen * NTAGS);
		if (bp == NULL) {
			PyErr_NoMemory();
			goto done;
		}
	}

	Py_BEGIN_ALLOW_THREADS
	for (k = 0; k < nseg; k++) {
		/* Re-checked because another thread may mutate the buffers now. */
		int64_t s = st[k], e = en[k];
		if (s < 0 || s > e || e > (int64_t)n || e - s > (int64_t)maxlen) {
			raced = 1;
			break;
		}
		if (e > s)
			decode_segment(sc + s * NTAGS, trans, (Py_ssize_t)(e - s), bp, o + s);
	}
	Py_END_ALLOW_THREADS

	if (raced) {
		PyErr_SetString(PyExc_ValueError, "segment bounds changed during decoding");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;

done:
	free(bp);
	PyBuffer_Release(&scores);
	PyBuffer_Release(&starts);
	PyBuffer_Release(&ends);
	PyBuffer_Release(&transbuf);
	PyBuffer_Release(&out);
	return result;
}

/* --- word-match features --------------------------------------------------- */

PyDoc_STRVAR(word_matches_doc,
"word_matches(flags, rows, bits, lengths, out) -> None\n\
\n\
The word-match feature matrix: for column pair c, out[i, 2c] = 1 where\n\
flags[rows[c], i] has bit bits[c] (a word of lengths[c] begins at i) and\n\
out[i + lengths[c] - 1, 2c + 1] = 1 (it ends there); every other item 0.\n\
flags: int64 (L, n); rows, bits, lengths: int64, C each; out: writable\n\
float32 (n, 2C).  A word that would end past n is left out.");

static PyObject *
word_matches(PyObject *self, PyObject *args)
{
	Py_buffer flags, rows, bits, lengths, out;
	PyObject *result = NULL;
	Py_ssize_t n, nflags, ncols, width, c;
	int64_t *spec = NULL;

	if (!PyArg_ParseTuple(args, "y*y*y*y*w*:word_matches", &flags, &rows, &bits, &lengths, &out))
		return NULL;
	if (check_buffer(&flags, sizeof(int64_t), "flags") < 0 || check_buffer(&rows, sizeof(int64_t), "rows") < 0 ||
	    check_buffer(&bits, sizeof(int64_t), "bits") < 0 || check_buffer(&lengths, sizeof(int64_t), "lengths") < 0 ||
	    check_buffer(&out, sizeof(float), "out") < 0)
		goto done;
	ncols = rows.len / (Py_ssize_t)sizeof(int64_t);
	if (bits.len != rows.len || lengths.len != rows.len) {
		PyErr_SetString(PyExc_ValueError, "rows, bits and lengths differ in length");
		goto done;
	}
	width = 2 * ncols;
	if (width == 0) {
		Py_INCREF(Py_None);
		result = Py_None;
		goto done;
	}
	if (out.len % (width * (Py_ssize_t)sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "out: expected (n, 2 * len(rows)) items");
		goto done;
	}
	n = out.len / (width * (Py_ssize_t)sizeof(float));
	nflags = n ? flags.len / (n * (Py_ssize_t)sizeof(int64_t)) : 0;
	if (n && flags.len != nflags * n * (Py_ssize_t)sizeof(int64_t)) {
		PyErr_SetString(PyExc_ValueError, "flags: expected (L, n) items, n the rows of out");
		goto done;
	}
	/* The column spec, checked and copied: the loop below runs without the
	 * GIL, when another thread could change the caller's arrays. */
	spec = (int64_t *)malloc((size_t)ncols * 3 * sizeof(int64_t));
	if (spec == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	for (c = 0; c < ncols; c++) {
		int64_t r = ((const int64_t *)rows.buf)[c], len = ((const int64_t *)lengths.buf)[c];
		if (n && (r < 0 || r >= nflags)) {
			PyErr_Format(PyExc_ValueError, "rows[%zd] = %lld: not a row of flags", c, (long long)r);
			goto done;
		}
		if (len < 1) {
			PyErr_Format(PyExc_ValueError, "lengths[%zd] = %lld: must be at least 1", c, (long long)len);
			goto done;
		}
		spec[3 * c] = r;
		spec[3 * c + 1] = ((const int64_t *)bits.buf)[c];
		spec[3 * c + 2] = len;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *f = (const int64_t *)flags.buf;
		float *o = (float *)out.buf;
		Py_ssize_t i;
		memset(o, 0, (size_t)out.len);
		for (i = 0; i < n; i++) {
			for (c = 0; c < ncols; c++) {
				const int64_t *col = spec + 3 * c;
				if (f[col[0] * n + i] & col[1]) {
					o[i * width + 2 * c] = 1.0f;
					if (col[2] - 1 < n - i)  /* the word ends inside; no overflow for any length */
						o[(i + col[2] - 1) * width + 2 * c + 1] = 1.0f;
				}
			}
		}
	}
	Py_END_ALLOW_THREADS

	Py_INCREF(Py_None);
	result = Py_None;
done:
	free(spec);
	PyBuffer_Release(&flags);
	PyBuffer_Release(&rows);
	PyBuffer_Release(&bits);
	PyBuffer_Release(&lengths);
	PyBuffer_Release(&out);
	return result;
}

/* --- grams ------------------------------------------------------------------ */

#define MAX_GRAM 64  /* longer keys would overflow 64 bits for any vocabulary of 2+ ids */

PyDoc_STRVAR(grams_doc,
"grams(char_ids, last, size, lengths, tables, filters, gated, gate, values) -> None\n\
\n\
The values of the n-grams starting at each position, n = lengths[r]: row r\n\
of values gets, for each i, the value stored for the key of the n ids from\n\
i (base `size`, PAD = 0 past a sequence's end, which last marks, or past\n\
the array), or 0 where it is missing.  A gated row is looked up only where\n\
the row before it (of length lengths[r] - 1) has a bit of `gate` set, and\n\
is 0 elsewhere.  char_ids: int64 (n); last: uint8 (n); lengths: int64,\n\
increasing, each >= 2; tables, filters: tuples of buffers as find takes\n\
them, one per length; gated: bytes, one per length; values: writable\n\
int64 (len(lengths), n).");

static PyObject *
grams(PyObject *self, PyObject *args)
{
	Py_buffer ids, last, lengths, values, gated;
	Py_buffer *tables = NULL, *filters = NULL;
	PyObject *table_objs, *filter_objs, *result = NULL;
	long long size, gate;
	Py_ssize_t n, nrows = 0, opened = 0, r;
	Py_ssize_t *slots = NULL;
	int *bits = NULL, *fbits = NULL;
	int64_t *keys = NULL, *at = NULL, *lens = NULL;
	int raced = 0;
	uint8_t *ended = NULL, *gates = NULL;

	if (!PyArg_ParseTuple(args, "y*y*Ly*O!O!y*Lw*:grams", &ids, &last, &size, &lengths, &PyTuple_Type, &table_objs,
	                      &PyTuple_Type, &filter_objs, &gated, &gate, &values))
		return NULL;
	if (check_buffer(&ids, sizeof(int64_t), "char_ids") < 0 || check_buffer(&last, 1, "last") < 0 ||
	    check_buffer(&lengths, sizeof(int64_t), "lengths") < 0 || check_buffer(&gated, 1, "gated") < 0 ||
	    check_buffer(&values, sizeof(int64_t), "values") < 0)
		goto done;
	n = ids.len / (Py_ssize_t)sizeof(int64_t);
	nrows = lengths.len / (Py_ssize_t)sizeof(int64_t);
	/* values.len / nrows: nrows * ids.len could overflow where Py_ssize_t is 32 bits. */
	if (last.len != n || gated.len != nrows || PyTuple_GET_SIZE(table_objs) != nrows ||
	    PyTuple_GET_SIZE(filter_objs) != nrows || (nrows ? values.len / nrows != ids.len || values.len % nrows
	                                                     : values.len != 0)) {
		PyErr_SetString(PyExc_ValueError, "last: one byte a position; tables, filters and gated: one a length; "
		                                  "values: (len(lengths), n)");
		goto done;
	}
	if (size < 1) {
		PyErr_SetString(PyExc_ValueError, "size must be positive");
		goto done;
	}
	tables = (Py_buffer *)calloc((size_t)nrows + 1, sizeof(Py_buffer));
	filters = (Py_buffer *)calloc((size_t)nrows + 1, sizeof(Py_buffer));
	slots = (Py_ssize_t *)calloc((size_t)nrows + 1, sizeof(Py_ssize_t));
	bits = (int *)calloc((size_t)nrows + 1, sizeof(int));
	fbits = (int *)calloc((size_t)nrows + 1, sizeof(int));
	keys = (int64_t *)malloc(((size_t)n + 1) * sizeof(int64_t));
	at = (int64_t *)malloc(((size_t)n + 1) * sizeof(int64_t));
	ended = (uint8_t *)malloc((size_t)n + 1);
	lens = (int64_t *)calloc((size_t)nrows + 1, sizeof(int64_t));
	gates = (uint8_t *)calloc((size_t)nrows + 1, 1);
	if (!tables || !filters || !slots || !bits || !fbits || !keys || !at || !ended || !lens || !gates) {
		PyErr_NoMemory();
		goto done;
	}
	/* Lengths and gates are copied, then checked: the loop below runs without
	 * the GIL, when another thread could change the caller's buffers. */
	memcpy(lens, lengths.buf, (size_t)nrows * sizeof(int64_t));
	memcpy(gates, gated.buf, (size_t)nrows);
	for (r = 0; r < nrows; r++) {
		if (lens[r] < 2 || lens[r] > MAX_GRAM || (r > 0 && lens[r] <= lens[r - 1])) {
			PyErr_SetString(PyExc_ValueError, "lengths: increasing, each at least 2 and at most 64");
			goto done;
		}
		if (gates[r] && (r == 0 || lens[r - 1] != lens[r] - 1)) {
			PyErr_SetString(PyExc_ValueError, "gated: a gated length must follow the length one shorter");
			goto done;
		}
		if (PyObject_GetBuffer(PyTuple_GET_ITEM(table_objs, r), &tables[r], PyBUF_SIMPLE | PyBUF_FORMAT) < 0)
			goto done;
		if (PyObject_GetBuffer(PyTuple_GET_ITEM(filter_objs, r), &filters[r], PyBUF_SIMPLE | PyBUF_FORMAT) < 0) {
			PyBuffer_Release(&tables[r]);
			goto done;
		}
		opened++;
		if ((slots[r] = table_slots(&tables[r])) < 0 || (fbits[r] = filter_bits(&filters[r])) < 0)
			goto done;
		bits[r] = bits_of(slots[r]);
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *c = (const int64_t *)ids.buf, *len = lens;
		const uint8_t *l = (const uint8_t *)last.buf, *g = gates;
		int64_t *v = (int64_t *)values.buf;
		Py_ssize_t i, j, have = 1;  /* ids in each key so far */
		memcpy(keys, c, (size_t)n * sizeof(int64_t));
		memcpy(ended, l, (size_t)n);
		for (r = 0; r < nrows; r++) {
			const int64_t *t = (const int64_t *)tables[r].buf;
			const uint64_t *f = (const uint64_t *)filters[r].buf;
			int b = bits[r], fb = fbits[r];
			int64_t *row = v + r * n;
			Py_ssize_t count;
			/* Extend every key to this length: the base-size number of the ids
			 * from i, PAD past the end of i's sequence (ended[i]: it ends before
			 * i + have), as encode._ngram_keys computes it. */
			for (; have < len[r]; have++) {
				for (i = 0; i < n; i++) {
					int64_t next = (i + have < n && !ended[i]) ? c[i + have] : 0;
					keys[i] = (int64_t)((uint64_t)keys[i] * (uint64_t)size + (uint64_t)next);
					if (i + have < n)
						ended[i] |= l[i + have];
				}
			}
			if (g[r]) {
				const int64_t *before = v + (r - 1) * n;
				count = 0;
				for (i = 0; i < n; i++) {
					row[i] = 0;
					if (before[i] & gate)
						at[count++] = i;
				}
			} else {
				for (i = 0; i < n; i++)
					at[i] = i;
				count = n;
			}
			for (j = 0; j < count; j++) {
				if (j + PREFETCH_AHEAD < count)  /* see prefetch_slot */
					prefetch_slot(t, f, b, fb, keys[at[j + PREFETCH_AHEAD]]);
				if (fb && j + 2 * PREFETCH_AHEAD < count)
					PREFETCH(&f[FILTER_BIT(keys[at[j + 2 * PREFETCH_AHEAD]], fb) >> 6]);
				row[at[j]] = probe(t, f, b, fb, slots[r], keys[at[j]], 0, &raced);
			}
		}
	}
	Py_END_ALLOW_THREADS

	if (raced) {
		PyErr_SetString(PyExc_ValueError, "table has no empty slot");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;
done:
	for (r = 0; r < opened; r++) {
		PyBuffer_Release(&tables[r]);
		PyBuffer_Release(&filters[r]);
	}
	free(tables);
	free(filters);
	free(slots);
	free(bits);
	free(fbits);
	free(keys);
	free(at);
	free(ended);
	free(lens);
	free(gates);
	PyBuffer_Release(&ids);
	PyBuffer_Release(&last);
	PyBuffer_Release(&lengths);
	PyBuffer_Release(&gated);
	PyBuffer_Release(&values);
	return result;
}

/* --- atoms ------------------------------------------------------------------ */

PyDoc_STRVAR(atom_runs_doc,
"atom_runs(cps, table, starts, ends, joined) -> tuple[int, int]\n\
\n\
The runs of two or more consecutive code points whose table byte is\n\
non-zero (0 past the table): their bounds into starts and ends, and\n\
their code points into joined, each run followed by a newline.  Returns\n\
(runs, code points written to joined).  cps, joined: uint32; table:\n\
uint8; starts, ends: int64 of at least len(cps) // 2 + 1 items, joined of\n\
at least len(cps) + len(cps) // 2 + 1.");

static PyObject *
atom_runs(PyObject *self, PyObject *args)
{
	Py_buffer cps, table, starts, ends, joined;
	PyObject *result = NULL;
	Py_ssize_t n, ntable, count = 0, written = 0;

	if (!PyArg_ParseTuple(args, "y*y*w*w*w*:atom_runs", &cps, &table, &starts, &ends, &joined))
		return NULL;
	if (check_buffer(&cps, sizeof(uint32_t), "cps") < 0 || check_buffer(&table, 1, "table") < 0 ||
	    check_buffer(&starts, sizeof(int64_t), "starts") < 0 || check_buffer(&ends, sizeof(int64_t), "ends") < 0 ||
	    check_buffer(&joined, sizeof(uint32_t), "joined") < 0)
		goto done;
	n = cps.len / (Py_ssize_t)sizeof(uint32_t);
	ntable = table.len;
	/* Runs of two or more, apart: at most (n + 1) / 3 of them, n + (n + 1) / 3 code points joined. */
	if (starts.len != ends.len || starts.len / (Py_ssize_t)sizeof(int64_t) < n / 2 + 1 ||
	    joined.len / (Py_ssize_t)sizeof(uint32_t) < n + n / 2 + 1) {
		PyErr_SetString(PyExc_ValueError, "starts and ends: at least len(cps) // 2 + 1 items each; "
		                                  "joined: at least len(cps) + len(cps) // 2 + 1");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)cps.buf;
		const uint8_t *t = (const uint8_t *)table.buf;
		int64_t *so = (int64_t *)starts.buf, *eo = (int64_t *)ends.buf;
		uint32_t *jo = (uint32_t *)joined.buf;
		Py_ssize_t i = 0;
		/* Each code point is read once into a local: the caller's buffer may
		 * change meanwhile (no GIL), and a bound checked on one read must hold
		 * for the index made from it. */
		while (i < n) {
			Py_ssize_t first = i;
			uint32_t cp;
			while (i < n && (size_t)(cp = c[i]) < (size_t)ntable && t[cp]) {
				jo[written + (i - first)] = cp;
				i++;
			}
			if (i - first >= 2) {
				so[count] = first;
				eo[count] = i;
				count++;
				written += i - first;
				jo[written++] = '\n';
			}
			if (i == first)
				i++;
		}
	}
	Py_END_ALLOW_THREADS

	result = Py_BuildValue("(nn)", count, written);
done:
	PyBuffer_Release(&cps);
	PyBuffer_Release(&table);
	PyBuffer_Release(&starts);
	PyBuffer_Release(&ends);
	PyBuffer_Release(&joined);
	return result;
}

PyDoc_STRVAR(constrain_doc,
"constrain(scores, starts, ends, penalty) -> None\n\
\n\
Rules out every cut inside the spans [starts[k], ends[k]) of the (N, 4)\n\
float32 tag scores, in place: penalty comes off s at each of a span's\n\
positions, off b at all but its first and off e at all but its last.\n\
starts, ends: int64, as many; spans in order, apart, within the scores.");

static PyObject *
constrain(PyObject *self, PyObject *args)
{
	Py_buffer scores, starts, ends;
	PyObject *result = NULL;
	double penalty;
	Py_ssize_t nrows, nspans, k;
	int64_t *spans = NULL;

	if (!PyArg_ParseTuple(args, "w*y*y*d:constrain", &scores, &starts, &ends, &penalty))
		return NULL;
	if (check_buffer(&scores, sizeof(float), "scores") < 0 || check_buffer(&starts, sizeof(int64_t), "starts") < 0 ||
	    check_buffer(&ends, sizeof(int64_t), "ends") < 0)
		goto done;
	if (scores.len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0 || starts.len != ends.len) {
		PyErr_SetString(PyExc_ValueError, "scores: (N, 4) items; starts and ends: as many each");
		goto done;
	}
	nrows = scores.len / (Py_ssize_t)(NTAGS * sizeof(float));
	nspans = starts.len / (Py_ssize_t)sizeof(int64_t);
	/* The spans are copied, then checked: the writes below, without the GIL,
	 * could otherwise change them (ends may share the scores' memory). */
	spans = (int64_t *)malloc(2 * ((size_t)nspans + 1) * sizeof(int64_t));
	if (spans == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	memcpy(spans, starts.buf, (size_t)nspans * sizeof(int64_t));
	memcpy(spans + nspans, ends.buf, (size_t)nspans * sizeof(int64_t));
	for (k = 0; k < nspans; k++) {
		int64_t a = spans[k], b = spans[nspans + k];
		int64_t before = k ? spans[nspans + k - 1] : 0;
		if (a < before || a > b || b > (int64_t)nrows) {
			PyErr_SetString(PyExc_ValueError, "spans must be in order, apart and within the scores");
			goto done;
		}
	}

	Py_BEGIN_ALLOW_THREADS
	{
		float *s = (float *)scores.buf;
		const int64_t *a = spans, *b = spans + nspans;
		const float p = (float)penalty;
		int64_t i;
		for (k = 0; k < nspans; k++) {
			for (i = a[k]; i < b[k]; i++) {
				float *row = s + i * NTAGS;
				row[S] -= p;
				if (i > a[k])
					row[B] -= p;
				if (i < b[k] - 1)
					row[E] -= p;
			}
		}
	}
	Py_END_ALLOW_THREADS

	Py_INCREF(Py_None);
	result = Py_None;
done:
	free(spans);
	PyBuffer_Release(&scores);
	PyBuffer_Release(&starts);
	PyBuffer_Release(&ends);
	return result;
}

/* --- rows ------------------------------------------------------------------ */

/* Checks the shared arguments of pack_rows and unpack_rows; returns the row
 * count, or -1 with an exception set. */
static Py_ssize_t
rows_layout(const Py_buffer *flat, Py_ssize_t item, const Py_buffer *stream_at, Py_ssize_t margin,
            Py_ssize_t core, const Py_buffer *rows, Py_ssize_t *n)
{
	Py_ssize_t width = core + 2 * margin, row_bytes;
	/* values and rows are copied as bytes: any item type will do. */
	if (check_buffer(stream_at, sizeof(int64_t), "stream_at") < 0)
		return -1;
	if (item < 1 || margin < 0 || core < 1 || width > PY_SSIZE_T_MAX / item) {
		PyErr_SetString(PyExc_ValueError, "item_bytes and core must be positive, margin not negative");
		return -1;
	}
	*n = stream_at->len / (Py_ssize_t)sizeof(int64_t);
	if (flat->len / item != *n || flat->len % item != 0) {
		PyErr_SetString(PyExc_ValueError, "values: expected len(stream_at) items of item_bytes");
		return -1;
	}
	row_bytes = width * item;
	if (rows->len % row_bytes != 0) {
		PyErr_SetString(PyExc_ValueError, "rows: expected whole rows of (core + 2 * margin) items");
		return -1;
	}
	return rows->len / row_bytes;
}

/* pack_rows and unpack_rows: the same arguments, (source, item_bytes,
 * stream_at, margin, core, destination), and one layout, copied one way or
 * the other. */
static PyObject *
move_rows(PyObject *args, int packing, const char *format)
{
	Py_buffer source, stream_at, destination;
	Py_buffer *values, *rows;
	Py_ssize_t item, margin, core, nrows, n;
	PyObject *result = NULL;
	int bad = 0;

	if (!PyArg_ParseTuple(args, format, &source, &item, &stream_at, &margin, &core, &destination))
		return NULL;
	values = packing ? &source : &destination;
	rows = packing ? &destination : &source;
	if ((nrows = rows_layout(values, item, &stream_at, margin, core, rows, &n)) < 0)
		goto done;

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *at = (const int64_t *)stream_at.buf;
		uint8_t *v = (uint8_t *)values->buf, *o = (uint8_t *)rows->buf;
		const Py_ssize_t width = core + 2 * margin;
		Py_ssize_t j;
		if (packing)
			memset(o, 0, (size_t)rows->len);
		for (j = 0; j < n; j++) {
			int64_t p = at[j], r, last;
			if (p < 0 || p >= (int64_t)nrows * core) {
				bad = 1;
				break;
			}
			if (!packing) {  /* from the row whose core holds p */
				memcpy(v + j * item, o + ((p / core) * width + margin + p % core) * item, (size_t)item);
				continue;
			}
			/* Into every row that holds p: in padded coordinates (margin
			 * blanks first) row r spans [r * core, r * core + width). */
			p += margin;
			r = p >= width ? (p - width) / core + 1 : 0;
			last = p / core < nrows - 1 ? p / core : nrows - 1;
			for (; r <= last; r++)
				memcpy(o + (r * width + (p - r * core)) * item, v + j * item, (size_t)item);
		}
	}
	Py_END_ALLOW_THREADS

	if (bad) {
		PyErr_SetString(PyExc_ValueError, "stream_at: a position outside the rows");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;
done:
	PyBuffer_Release(&source);
	PyBuffer_Release(&stream_at);
	PyBuffer_Release(&destination);
	return result;
}

PyDoc_STRVAR(pack_rows_doc,
"pack_rows(values, item_bytes, stream_at, margin, core, rows) -> None\n\
\n\
Lays values (one item of item_bytes per position) into overlapping rows:\n\
item j sits at stream position stream_at[j]; row r holds the stream's\n\
[r * core - margin, r * core + core + margin); everything else is zeros.");

static PyObject *
pack_rows(PyObject *self, PyObject *args)
{
	return move_rows(args, 1, "y*ny*nnw*:pack_rows");
}

PyDoc_STRVAR(unpack_rows_doc,
"unpack_rows(rows, item_bytes, stream_at, margin, core, values) -> None\n\
\n\
The reverse of pack_rows, from each position's own row: values[j] =\n\
rows[p // core, margin + p % core] for p = stream_at[j].");

static PyObject *
unpack_rows(PyObject *self, PyObject *args)
{
	return move_rows(args, 0, "y*ny*nnw*:unpack_rows");
}

/* --- output ---------------------------------------------------------------- */

/* Writes code point c as UTF-8 at o; returns the bytes written, 0 for a
 * surrogate that does not stand for an undecodable input byte. */
static inline Py_ssize_t
put_utf8(uint32_t c, uint8_t *o)
{
	if (c < 0x80) {
		o[0] = (uint8_t)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (uint8_t)(0xC0 | (c >> 6));
		o[1] = (uint8_t)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c >= 0xD800 && c <= 0xDFFF) {
		/* surrogateescape: U+DC80..U+DCFF are the input's undecodable bytes. */
		if (c >= 0xDC80 && c <= 0xDCFF) {
			o[0] = (uint8_t)(c - 0xDC00);
			return 1;
		}
		return 0;
	}
	if (c < 0x10000) {
		o[0] = (uint8_t)(0xE0 | (c >> 12));
		o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (uint8_t)(0x80 | (c & 0x3F));
		return 3;
	}
	if (c < 0x110000) {
		o[0] = (uint8_t)(0xF0 | (c >> 18));
		o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
		o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		o[3] = (uint8_t)(0x80 | (c & 0x3F));
		return 4;
	}
	return 0;
}

/* The next word of a line's [i, b): it begins at the first non-space
 * position and ends before the next position tagged s or b or the next
 * space.  Returns 0 when none is left.  render_text and words share it, so
 * they cut alike. */
static inline int
next_word(const uint8_t *t, const uint8_t *sp, int64_t i, int64_t b, int64_t *start, int64_t *end)
{
	while (i < b && sp[i])
		i++;
	if (i >= b)
		return 0;
	*start = i;
	for (i++; i < b && !sp[i] && t[i] > B; i++)
		;
	*end = i;
	return 1;
}

PyDoc_STRVAR(render_text_doc,
"render_text(cps, tags, space, line_starts, line_ends, delimiter, out, body_ends) -> int\n\
\n\
Each line's words as UTF-8, joined by delimiter, back to back in out;\n\
body_ends[k] is where line k's body ends (lines in order, apart).  A\n\
word begins at every non-space position tagged s or b or first after a\n\
space, and ends before the next begin or space.  Returns the bytes written, or -1 for a code\n\
point UTF-8 with surrogateescape cannot encode.");

static PyObject *
render_text(PyObject *self, PyObject *args)
{
	Py_buffer cps, tags, space, lstarts, lends, delim, out, bends;
	PyObject *result = NULL;
	Py_ssize_t n, nlines, k, written = 0;
	int bad = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*w*w*:render_text", &cps, &tags, &space, &lstarts, &lends,
	                      &delim, &out, &bends))
		return NULL;
	if (check_buffer(&cps, sizeof(uint32_t), "cps") < 0 || check_buffer(&tags, 1, "tags") < 0 ||
	    check_buffer(&space, 1, "space") < 0 || check_buffer(&lstarts, sizeof(int64_t), "line_starts") < 0 ||
	    check_buffer(&lends, sizeof(int64_t), "line_ends") < 0 || check_buffer(&out, 1, "out") < 0 ||
	    check_buffer(&bends, sizeof(int64_t), "body_ends") < 0)
		goto done;
	n = cps.len / (Py_ssize_t)sizeof(uint32_t);
	nlines = lstarts.len / (Py_ssize_t)sizeof(int64_t);
	if (tags.len != n || space.len != n) {
		PyErr_SetString(PyExc_ValueError, "tags and space must have one item per code point");
		goto done;
	}
	if (lends.len != lstarts.len || bends.len != lstarts.len) {
		PyErr_SetString(PyExc_ValueError, "line_starts, line_ends and body_ends differ in length");
		goto done;
	}
	/* Room for the worst case: 4 bytes a code point, a delimiter before each. */
	if (out.len / (4 + delim.len) < n) {
		PyErr_SetString(PyExc_ValueError, "out: needs len(cps) * (4 + len(delimiter)) bytes");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)cps.buf;
		const uint8_t *t = (const uint8_t *)tags.buf, *sp = (const uint8_t *)space.buf;
		const uint8_t *d = (const uint8_t *)delim.buf;
		const int64_t *ls = (const int64_t *)lstarts.buf, *le = (const int64_t *)lends.buf;
		int64_t *be = (int64_t *)bends.buf;
		uint8_t *o = (uint8_t *)out.buf;
		int64_t previous_end = 0;
		for (k = 0; k < nlines && !bad; k++) {
			int64_t i, a = ls[k], b = le[k], start, end;
			int first = 1;
			/* Lines in order and apart: each code point is written once, so out's size holds. */
			if (a < previous_end || a > b || b > (int64_t)n) {
				bad = 2;
				break;
			}
			previous_end = b;
			while (!bad && next_word(t, sp, a, b, &start, &end)) {
				if (!first) {
					memcpy(o + written, d, (size_t)delim.len);
					written += delim.len;
				}
				first = 0;
				for (i = start; i < end; i++) {
					Py_ssize_t w = put_utf8(c[i], o + written);
					if (w == 0) {
						bad = 1;
						break;
					}
					written += w;
				}
				a = end;
			}
			be[k] = written;
		}
	}
	Py_END_ALLOW_THREADS

	if (bad == 2) {
		PyErr_SetString(PyExc_ValueError, "lines must be in order, apart, and within the code points");
		goto done;
	}
	result = PyLong_FromSsize_t(bad ? -1 : written);
done:
	PyBuffer_Release(&cps);
	PyBuffer_Release(&tags);
	PyBuffer_Release(&space);
	PyBuffer_Release(&lstarts);
	PyBuffer_Release(&lends);
	PyBuffer_Release(&delim);
	PyBuffer_Release(&out);
	PyBuffer_Release(&bends);
	return result;
}

PyDoc_STRVAR(words_doc,
"words(lines: tuple[str, ...], tags, space, line_starts, line_ends) -> list[list[str]]\n\
\n\
Each line's words as slices of the line itself, cut as render_text cuts\n\
them; lines[k] spans [line_starts[k], line_ends[k]) of tags and space.\n\
Holds the GIL (it makes the strings) but nothing else per word.");

static PyObject *
words(PyObject *self, PyObject *args)
{
	PyObject *lines, *result = NULL, *line_words = NULL, *word;
	Py_buffer tags, space, lstarts, lends;
	Py_ssize_t n, nlines, k;

	if (!PyArg_ParseTuple(args, "O!y*y*y*y*:words", &PyTuple_Type, &lines, &tags, &space, &lstarts, &lends))
		return NULL;
	if (check_buffer(&tags, 1, "tags") < 0 || check_buffer(&space, 1, "space") < 0 ||
	    check_buffer(&lstarts, sizeof(int64_t), "line_starts") < 0 ||
	    check_buffer(&lends, sizeof(int64_t), "line_ends") < 0)
		goto done;
	n = tags.len;
	nlines = lstarts.len / (Py_ssize_t)sizeof(int64_t);
	if (space.len != n) {
		PyErr_SetString(PyExc_ValueError, "tags and space differ in length");
		goto done;
	}
	if (lends.len != lstarts.len || PyTuple_GET_SIZE(lines) != nlines) {
		PyErr_SetString(PyExc_ValueError, "lines, line_starts and line_ends differ in length");
		goto done;
	}
	result = PyList_New(nlines);
	if (result == NULL)
		goto done;
	{
		const uint8_t *t = (const uint8_t *)tags.buf, *sp = (const uint8_t *)space.buf;
		const int64_t *ls = (const int64_t *)lstarts.buf, *le = (const int64_t *)lends.buf;
		for (k = 0; k < nlines; k++) {
			PyObject *line = PyTuple_GET_ITEM(lines, k);  /* a tuple: nothing can change it meanwhile */
			int64_t a = ls[k], b = le[k], at, start, end;
			if (a < 0 || a > b || b > (int64_t)n) {
				PyErr_SetString(PyExc_ValueError, "a line is not within tags");
				goto fail;
			}
			if (!PyUnicode_Check(line) || PyUnicode_GET_LENGTH(line) != (Py_ssize_t)(b - a)) {
				PyErr_Format(PyExc_ValueError, "lines[%zd]: expected a str of %lld characters", k,
				             (long long)(b - a));
				goto fail;
			}
			line_words = PyList_New(0);
			if (line_words == NULL)
				goto fail;
			for (at = a; next_word(t, sp, at, b, &start, &end); at = end) {
				word = PyUnicode_Substring(line, (Py_ssize_t)(start - a), (Py_ssize_t)(end - a));
				if (word == NULL || PyList_Append(line_words, word) < 0) {
					Py_XDECREF(word);
					goto fail;
				}
				Py_DECREF(word);
			}
			PyList_SET_ITEM(result, k, line_words);
			line_words = NULL;
		}
	}
	goto done;
fail:
	Py_XDECREF(line_words);
	Py_CLEAR(result);
done:
	PyBuffer_Release(&tags);
	PyBuffer_Release(&space);
	PyBuffer_Release(&lstarts);
	PyBuffer_Release(&lends);
	return result;
}

static PyMethodDef module_methods[] = {
	{"atom_runs", (PyCFunction)atom_runs, METH_VARARGS, atom_runs_doc},
	{"build", (PyCFunction)build, METH_VARARGS, build_doc},
	{"constrain", (PyCFunction)constrain, METH_VARARGS, constrain_doc},
	{"classify", (PyCFunction)classify, METH_VARARGS, classify_doc},
	{"find", (PyCFunction)find, METH_VARARGS, find_doc},
	{"grams", (PyCFunction)grams, METH_VARARGS, grams_doc},
	{"viterbi", (PyCFunction)viterbi, METH_VARARGS, viterbi_doc},
	{"word_matches", (PyCFunction)word_matches, METH_VARARGS, word_matches_doc},
	{"pack_rows", (PyCFunction)pack_rows, METH_VARARGS, pack_rows_doc},
	{"unpack_rows", (PyCFunction)unpack_rows, METH_VARARGS, unpack_rows_doc},
	{"render_text", (PyCFunction)render_text, METH_VARARGS, render_text_doc},
	{"words", (PyCFunction)words, METH_VARARGS, words_doc},
	{NULL, NULL, 0, NULL}  /* Sentinel */
};

/* The tag ids, exported so that tests can check that segcli.decode agrees. */
static int
module_exec(PyObject *module)
{
	if (PyModule_AddIntConstant(module, "S", S) < 0 ||
	    PyModule_AddIntConstant(module, "B", B) < 0 ||
	    PyModule_AddIntConstant(module, "M", M) < 0 ||
	    PyModule_AddIntConstant(module, "E", E) < 0)
		return -1;
	return 0;
}

static PyModuleDef_Slot module_slots[] = {
	{Py_mod_exec, module_exec},
#ifdef Py_mod_multiple_interpreters  /* Python 3.12+ */
	{Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil  /* Python 3.13+ */
	{Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
	{0, NULL}  /* Sentinel */
};

static struct PyModuleDef module_definition = {
	.m_base = PyModuleDef_HEAD_INIT,
	.m_name = "segcli._core",
	.m_doc = "segcli's private C loops: hash lookups, Viterbi, output rendering.",
	.m_size = 0,
	.m_methods = module_methods,
	.m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
	return PyModuleDef_Init(&module_definition);
}
