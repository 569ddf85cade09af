/* The loops of segcli/encode.py: the hash tables of encode.KeyIndex (build,
 * find), a batch's per-character pass (classify), its n-grams' lookups
 * (grams) and the word-match feature matrix (word_matches).
 *
 * Twins: tests/reference_lookup.py (build, find, grams), and in
 * tests/test_encode.py for classify and word_matches; a filtered lookup is
 * held to an unfiltered one.
 *
 * - build / find: hash-table lookup of positive int64 keys (open addressing,
 *   Fibonacci hashing, linear probing, key 0 marks an empty slot, so a zeroed
 *   table is empty): one pass per key where numpy needs several over the
 *   whole array.
 * - classify: a batch's whitespace, lookup form, and the ids of the
 *   characters the model sees, in one pass over its code points.
 * - grams: the keys of every n-gram of a batch, made and looked up in one
 *   pass per length (a longer one only where a shorter one is a word's prefix).
 * - word_matches: the word-match feature matrix from the lookups' flags.
 */
#include "core.h"

/* --- hash tables ------------------------------------------------------- */

#define EMPTY 0  /* the key of an empty slot: keys are positive */
#define MULTIPLIER 0x9E3779B97F4A7C15ULL

/* A key's first slot in a table of 2^bits slots (Fibonacci hashing). */
static inline uint64_t
slot_of(int64_t key, int bits)
{
	return ((uint64_t)key * MULTIPLIER) >> (64 - bits);
}

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
 * filter (fbits 0: none), or `missing`.  Every slot it reads is the hash
 * masked to the table and every filter word the bit's index over 64, both
 * within the checked sizes, whatever the tables hold.  A table without an
 * empty slot (a damaged cache file, or one another thread rewrote) must not
 * loop for ever: the probe then stops and sets *raced. */
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

/* The error of a probe that found no empty slot (see probe). */
#define NO_EMPTY_SLOT "table has no empty slot"

PyDoc_STRVAR(find_doc,
"find(table, filter, keys, missing, out) -> None\n\
\n\
For each key, the value stored beside it in the table, or `missing`.\n\
filter: the table's filter (see build), or empty for none.\n\
table: int64, key and value of each slot side by side, a power-of-two\n\
number of slots (empty ones hold key 0); keys, out: int64 arrays of the\n\
same length.");

static PyObject *
find(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { TABLE, FILTER, KEYS, OUT, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"table", 0}, {"filter", 0}, {"keys", sizeof(int64_t)}, {"out", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	long long missing;
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits, fbits, raced = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*Lw*:find", &v[TABLE], &v[FILTER], &v[KEYS], &missing,
	                 &v[OUT]) < 0)
		return NULL;
	if ((size = table_slots(&v[TABLE])) < 0 || (fbits = filter_bits(&v[FILTER])) < 0)
		goto done;
	n = v[KEYS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[OUT].len != v[KEYS].len) {
		PyErr_SetString(PyExc_ValueError, "out and keys differ in length");
		goto done;
	}
	bits = bits_of(size);

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *t = (const int64_t *)v[TABLE].buf;
		const uint64_t *f = (const uint64_t *)v[FILTER].buf;
		const int64_t *k = (const int64_t *)v[KEYS].buf;
		int64_t *o = (int64_t *)v[OUT].buf;
		for (i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n)
				prefetch_slot(t, f, bits, fbits, k[i + PREFETCH_AHEAD]);
			if (fbits && i + 2 * PREFETCH_AHEAD < n)
				PREFETCH(&f[FILTER_BIT(k[i + 2 * PREFETCH_AHEAD], fbits) >> 6]);
			o[i] = probe(t, f, bits, fbits, size, k[i], (int64_t)missing, &raced);
		}
	}
	Py_END_ALLOW_THREADS

	result = none_unless(raced, NO_EMPTY_SLOT);
done:
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(build_doc,
"build(keys, values, table, filter) -> None\n\
\n\
Fills an empty (zeroed) table with keys[i] -> values[i]; a key given\n\
more than once gets the bitwise OR of its values.  keys: positive int64; values: int64, as many; table: writable int64, key\n\
and value of each slot side by side, more slots than keys; filter:\n\
writable zeroed uint64 bitmap of a power-of-two number of bits, or empty.");

static PyObject *
build(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { KEYS, VALUES, TABLE, FILTER, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"keys", sizeof(int64_t)}, {"values", sizeof(int64_t)}, {"table", 0}, {"filter", 0}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits, fbits, bad = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*w*w*:build", &v[KEYS], &v[VALUES], &v[TABLE], &v[FILTER]) < 0)
		return NULL;
	if ((size = table_slots(&v[TABLE])) < 0 || (fbits = filter_bits(&v[FILTER])) < 0)
		goto done;
	if (v[VALUES].len != v[KEYS].len) {
		PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
		goto done;
	}
	n = v[KEYS].len / (Py_ssize_t)sizeof(int64_t);
	if (n >= size) {
		PyErr_SetString(PyExc_ValueError, "table: needs more slots than len(keys), a power of two above len");
		goto done;
	}
	bits = bits_of(size);

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *k = (const int64_t *)v[KEYS].buf, *val = (const int64_t *)v[VALUES].buf;
		int64_t *t = (int64_t *)v[TABLE].buf;
		uint64_t *f = (uint64_t *)v[FILTER].buf;
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
				t[2 * slot + 1] |= val[i];
			} else {
				t[2 * slot] = k[i];
				t[2 * slot + 1] = val[i];
			}
		}
	}
	Py_END_ALLOW_THREADS

	result = none_unless(bad, "keys must be positive, into an empty table");
done:
	return release_buffers(v, VIEWS, result);
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
classify(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, SPACES, FOLD, IDS, SPACE, FOLDED, KEPT, KEPT_IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"spaces", 1}, {"fold", sizeof(uint32_t)}, {"ids", sizeof(int64_t)},
		{"space", 1}, {"folded", sizeof(uint32_t)}, {"kept", sizeof(int64_t)}, {"kept_ids", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, nspaces, nfold, nids, i, count = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*w*w*w*w*:classify", &v[CPS], &v[SPACES], &v[FOLD], &v[IDS],
	                 &v[SPACE], &v[FOLDED], &v[KEPT], &v[KEPT_IDS]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	nspaces = v[SPACES].len;
	nfold = v[FOLD].len / (Py_ssize_t)sizeof(uint32_t);
	nids = v[IDS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[SPACE].len != n || v[FOLDED].len != v[CPS].len || v[KEPT].len != n * (Py_ssize_t)sizeof(int64_t) ||
	    v[KEPT_IDS].len != v[KEPT].len) {
		PyErr_SetString(PyExc_ValueError, "space, folded, kept and kept_ids must have one item per code point");
		goto done;
	}
	if (nids < 1) {
		PyErr_SetString(PyExc_ValueError, "ids must not be empty");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf, *fo = (const uint32_t *)v[FOLD].buf;
		const uint8_t *sp = (const uint8_t *)v[SPACES].buf;
		const int64_t *id = (const int64_t *)v[IDS].buf;
		uint8_t *so = (uint8_t *)v[SPACE].buf;
		uint32_t *fd = (uint32_t *)v[FOLDED].buf;
		int64_t *ko = (int64_t *)v[KEPT].buf, *io = (int64_t *)v[KEPT_IDS].buf;
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
	return release_buffers(v, VIEWS, result);
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
word_matches(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { FLAGS, ROWS, BITS, LENGTHS, OUT, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"flags", sizeof(int64_t)}, {"rows", sizeof(int64_t)},
	                                        {"bits", sizeof(int64_t)}, {"lengths", sizeof(int64_t)},
	                                        {"out", sizeof(float)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, nflags, ncols, width, c;
	int64_t *spec = NULL;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*w*:word_matches", &v[FLAGS], &v[ROWS], &v[BITS], &v[LENGTHS],
	                 &v[OUT]) < 0)
		return NULL;
	ncols = v[ROWS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[BITS].len != v[ROWS].len || v[LENGTHS].len != v[ROWS].len) {
		PyErr_SetString(PyExc_ValueError, "rows, bits and lengths differ in length");
		goto done;
	}
	width = 2 * ncols;
	if (width == 0) {
		result = none();
		goto done;
	}
	if (v[OUT].len % (width * (Py_ssize_t)sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "out: expected (n, 2 * len(rows)) items");
		goto done;
	}
	n = v[OUT].len / (width * (Py_ssize_t)sizeof(float));
	nflags = n ? v[FLAGS].len / (n * (Py_ssize_t)sizeof(int64_t)) : 0;
	if (n && v[FLAGS].len != nflags * n * (Py_ssize_t)sizeof(int64_t)) {
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
		int64_t r = ((const int64_t *)v[ROWS].buf)[c], len = ((const int64_t *)v[LENGTHS].buf)[c];
		if (n && (r < 0 || r >= nflags)) {
			PyErr_Format(PyExc_ValueError, "rows[%zd] = %lld: not a row of flags", c, (long long)r);
			goto done;
		}
		if (len < 1) {
			PyErr_Format(PyExc_ValueError, "lengths[%zd] = %lld: must be at least 1", c, (long long)len);
			goto done;
		}
		spec[3 * c] = r;
		spec[3 * c + 1] = ((const int64_t *)v[BITS].buf)[c];
		spec[3 * c + 2] = len;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *f = (const int64_t *)v[FLAGS].buf;
		float *o = (float *)v[OUT].buf;
		Py_ssize_t i;
		memset(o, 0, (size_t)v[OUT].len);
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

	result = none();
done:
	free(spec);
	return release_buffers(v, VIEWS, result);
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
grams(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { IDS, LAST, LENGTHS, GATED, VALUES, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"char_ids", sizeof(int64_t)}, {"last", 1},
	                                        {"lengths", sizeof(int64_t)}, {"gated", 1}, {"values", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	Py_buffer *tables = NULL, *filters = NULL;
	PyObject *table_objs, *filter_objs, *result = NULL;
	long long size, gate;
	Py_ssize_t n, nrows = 0, opened = 0, r;
	Py_ssize_t *slots = NULL;
	int *bits = NULL, *fbits = NULL;
	int64_t *keys = NULL, *at = NULL, *lens = NULL;
	int raced = 0;
	uint8_t *ended = NULL, *gates = NULL;

	if (take_buffers(args, v, specs, VIEWS, "y*y*Ly*O!O!y*Lw*:grams", &v[IDS], &v[LAST], &size, &v[LENGTHS],
	                 &PyTuple_Type, &table_objs, &PyTuple_Type, &filter_objs, &v[GATED], &gate, &v[VALUES]) < 0)
		return NULL;
	n = v[IDS].len / (Py_ssize_t)sizeof(int64_t);
	nrows = v[LENGTHS].len / (Py_ssize_t)sizeof(int64_t);
	/* values.len / nrows: nrows * ids.len could overflow where Py_ssize_t is 32 bits. */
	if (v[LAST].len != n || v[GATED].len != nrows || PyTuple_GET_SIZE(table_objs) != nrows ||
	    PyTuple_GET_SIZE(filter_objs) != nrows ||
	    (nrows ? v[VALUES].len / nrows != v[IDS].len || v[VALUES].len % nrows : v[VALUES].len != 0)) {
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
	memcpy(lens, v[LENGTHS].buf, (size_t)nrows * sizeof(int64_t));
	memcpy(gates, v[GATED].buf, (size_t)nrows);
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
		const int64_t *c = (const int64_t *)v[IDS].buf, *len = lens;
		const uint8_t *l = (const uint8_t *)v[LAST].buf, *g = gates;
		int64_t *val = (int64_t *)v[VALUES].buf;
		Py_ssize_t i, j, have = 1;  /* ids in each key so far */
		memcpy(keys, c, (size_t)n * sizeof(int64_t));
		memcpy(ended, l, (size_t)n);
		for (r = 0; r < nrows; r++) {
			const int64_t *t = (const int64_t *)tables[r].buf;
			const uint64_t *f = (const uint64_t *)filters[r].buf;
			int b = bits[r], fb = fbits[r];
			int64_t *row = val + r * n;
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
				const int64_t *before = val + (r - 1) * n;
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

	result = none_unless(raced, NO_EMPTY_SLOT);
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
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef encode_methods[] = {
	METHOD(build),
	METHOD(classify),
	METHOD(find),
	METHOD(grams),
	METHOD(word_matches),
	END_OF_METHODS
};
