/* The loops of segcli/pos.py's word head: each word's hashed features
 * (word_features), and its tag id from them (word_head).  A word's features
 * are read off the cut, so one word costs a dozen table rows where a head
 * over every character cost five rows a character plus two matrix products.
 *
 * Twin: tests/reference_tags.py.
 */
#include "core.h"

#include <math.h>

/* Code points past Unicode: the line's start and end, the separator of a
 * word and its neighbour, any picture character, and a word's length (1..4,
 * 4 and more). */
enum {
	LINE_START = 0x110000, LINE_END = 0x110001, JOIN = 0x110002, PICTURE = 0x110003, LENGTH = 0x110010,
	NFEATURES = 12
};

/* What a feature hashes of a code point (lookup form): every digit is 0,
 * every ASCII letter a, every character of U+1F000..U+1FFFF (emoji) one
 * picture: the tagged training text has few of them, and a feature it
 * never saw lands on the rows of others. */
static inline uint32_t
feature_unit(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return '0';
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return 'a';
	if (c >= 0x1F000 && c < 0x20000)
		return PICTURE;
	return c;
}

/* FNV-1a over 32-bit units, then splitmix64's finaliser: FNV's low bits,
 * which pick the bucket, are weak on their own. */
typedef struct { uint64_t h; } Hash;

static inline Hash
hash_start(uint64_t salt)
{
	Hash hash = {0xcbf29ce484222325ULL ^ (salt * 0x9e3779b97f4a7c15ULL)};
	return hash;
}

static inline void
hash_add(Hash *hash, uint32_t unit)
{
	hash->h = (hash->h ^ unit) * 0x100000001b3ULL;
}

/* A run of code points, each as feature_unit has it. */
static inline void
hash_run(Hash *hash, const uint32_t *cps, int64_t n)
{
	int64_t i;
	for (i = 0; i < n; i++)
		hash_add(hash, feature_unit(cps[i]));
}

static inline int32_t
hash_bucket(Hash hash, uint64_t mask)
{
	uint64_t z = hash.h;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (int32_t)(z & mask);
}

PyDoc_STRVAR(word_features_doc,
"word_features(cps, space, starts, ends, line_starts, line_ends, buckets, features) -> None\n\
\n\
features[k] (12 int32 a word, -1 for none) = the buckets (< buckets, a power\n\
of two) of word k = cps[starts[k]:ends[k]]: the word, its first and last\n\
characters, its length with its last character, its first and last two\n\
(3 characters and more), the one and two characters before and after it\n\
inside [line_starts[k], line_ends[k]) that are not space (nonzero in\n\
space; the line's start or end past them), and the word with the character\n\
after it and before it; every digit hashed as 0, every ASCII letter as a,\n\
every character from U+1F000 on as one.");

/* Up to two characters that are not space, nearest first, going from `at`
 * by `step` while inside [lo, hi); how many there are. */
static inline int
neighbours(const uint32_t *c, const uint8_t *space, int64_t at, int64_t step, int64_t lo, int64_t hi,
           uint32_t found[2])
{
	int count = 0;
	for (; count < 2 && at >= lo && at < hi; at += step)
		if (!space[at])
			found[count++] = feature_unit(c[at]);
	return count;
}

static PyObject *
word_features(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, SPACE, STARTS, ENDS, LINE_STARTS, LINE_ENDS, FEATURES, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"space", 1}, {"starts", sizeof(int64_t)}, {"ends", sizeof(int64_t)},
		{"line_starts", sizeof(int64_t)}, {"line_ends", sizeof(int64_t)}, {"features", sizeof(int32_t)},
	};
	Py_buffer v[VIEWS];
	Py_ssize_t buckets, ncps, nwords;
	int bad = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*y*y*nw*:word_features", &v[CPS], &v[SPACE], &v[STARTS],
	                 &v[ENDS], &v[LINE_STARTS], &v[LINE_ENDS], &buckets, &v[FEATURES]) < 0)
		return NULL;
	ncps = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	nwords = v[STARTS].len / (Py_ssize_t)sizeof(int64_t);
	if (buckets < 1 || (buckets & (buckets - 1)) != 0 || buckets > ((Py_ssize_t)1 << 30)) {
		PyErr_SetString(PyExc_ValueError, "buckets: expected a power of two, at most 2**30");
		return release_buffers(v, VIEWS, NULL);
	}
	if (v[SPACE].len != ncps) {
		PyErr_SetString(PyExc_ValueError, "space: expected one byte a code point");
		return release_buffers(v, VIEWS, NULL);
	}
	if (v[ENDS].len != v[STARTS].len || v[LINE_STARTS].len != v[STARTS].len ||
	    v[LINE_ENDS].len != v[STARTS].len ||
	    v[FEATURES].len / (Py_ssize_t)sizeof(int32_t) != nwords * NFEATURES) {
		PyErr_SetString(PyExc_ValueError,
		                "starts, ends, line_starts, line_ends: one item a word; features: 12 a word");
		return release_buffers(v, VIEWS, NULL);
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *space = (const uint8_t *)v[SPACE].buf;
		const int64_t *starts = (const int64_t *)v[STARTS].buf, *ends = (const int64_t *)v[ENDS].buf;
		const int64_t *lo = (const int64_t *)v[LINE_STARTS].buf, *hi = (const int64_t *)v[LINE_ENDS].buf;
		int32_t *out = (int32_t *)v[FEATURES].buf;
		const uint64_t mask = (uint64_t)buckets - 1;
		Py_ssize_t k;
		for (k = 0; k < nwords; k++, out += NFEATURES) {
			const int64_t a = starts[k], b = ends[k], n = b - a;
			const uint32_t *w;
			uint32_t left[2], right[2], before, after;
			int nleft, nright;
			Hash h;
			if (!(0 <= lo[k] && lo[k] <= a && a < b && b <= hi[k] && hi[k] <= ncps)) {
				bad = 1;
				break;
			}
			w = c + a;
			nleft = neighbours(c, space, a - 1, -1, lo[k], hi[k], left);
			nright = neighbours(c, space, b, 1, lo[k], hi[k], right);
			before = nleft ? left[0] : LINE_START;
			after = nright ? right[0] : LINE_END;
			h = hash_start(1), hash_run(&h, w, n), out[0] = hash_bucket(h, mask);
			h = hash_start(2), hash_run(&h, w, 1), out[1] = hash_bucket(h, mask);
			h = hash_start(3), hash_run(&h, w + n - 1, 1), out[2] = hash_bucket(h, mask);
			h = hash_start(4), hash_add(&h, LENGTH + (uint32_t)(n < 4 ? n : 4)), hash_run(&h, w + n - 1, 1);
			out[3] = hash_bucket(h, mask);
			if (n >= 3) {
				h = hash_start(5), hash_run(&h, w, 2), out[4] = hash_bucket(h, mask);
				h = hash_start(6), hash_run(&h, w + n - 2, 2), out[5] = hash_bucket(h, mask);
			} else {
				out[4] = out[5] = -1;
			}
			h = hash_start(7), hash_add(&h, before), out[6] = hash_bucket(h, mask);
			h = hash_start(8), hash_add(&h, after), out[7] = hash_bucket(h, mask);
			h = hash_start(9);  /* the two before, in text order */
			if (nleft == 2)
				hash_add(&h, left[1]);
			hash_add(&h, before);
			out[8] = hash_bucket(h, mask);
			h = hash_start(10);
			hash_add(&h, after);
			if (nright == 2)
				hash_add(&h, right[1]);
			out[9] = hash_bucket(h, mask);
			h = hash_start(11), hash_run(&h, w, n), hash_add(&h, JOIN), hash_add(&h, after);
			out[10] = hash_bucket(h, mask);
			h = hash_start(12), hash_add(&h, before), hash_add(&h, JOIN), hash_run(&h, w, n);
			out[11] = hash_bucket(h, mask);
		}
	}
	Py_END_ALLOW_THREADS

	return release_buffers(v, VIEWS, none_unless(bad, "starts, ends: a word of no character or outside its line"));
}

PyDoc_STRVAR(word_head_doc,
"word_head(features, table, width, scales, biases, weights, out_biases, ids) -> None\n\
\n\
ids[k] = the argmax of out_biases + weights' rows weighted by hidden, where\n\
hidden[d] = max(0, scales[d] * (the sum of table's int8 rows features[k]\n\
that are not -1)[d] + biases[d]); float32, each product rounded before its\n\
sum (setup.py builds with -ffp-contract=off), added in order of d, units at\n\
0 left out: numpy's order, so the twin's tags are the same.  The first\n\
largest score, a NaN counting as -inf.");

/* Rows of words this far ahead are fetched while a word is tagged: the
 * table is larger than a core's cache, and a word's twelve rows lie
 * anywhere in it. */
enum { PREFETCH_AHEAD = 4 };

/* Tag scores computed together: one AVX2 register (two SSE ones), as a
 * GCC/clang vector (elementwise, so each score's arithmetic is a float's). */
#if defined(__GNUC__) || defined(__clang__)
#define HAVE_BLOCKS 1
enum { BLOCK = 8, MAX_BLOCKS = 8 };
typedef float Block __attribute__((vector_size(BLOCK * sizeof(float))));
typedef int32_t Mask __attribute__((vector_size(BLOCK * sizeof(int32_t))));
#endif

typedef struct {
	const int32_t *features;
	const int8_t *table;
	Py_ssize_t rows, width, tags, nwords;
	const float *scales, *biases, *weights, *out_biases;
	int64_t *ids;
	int32_t *sums;   /* width */
	float *hidden;   /* width */
	Py_ssize_t *active;  /* width: the units above 0 */
	float *logits;   /* tags */
} HeadRun;

/* word_head's loop; 0, or -1 for a bucket outside the table.  Inlined into
 * each of the two callers below, so each is vectorised for its own
 * instruction set; the same operations in the same order, so both give the
 * same tags. */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define ALWAYS_INLINE inline
#define PREFETCH(address) ((void)(address))
#endif

static ALWAYS_INLINE int
tag_words(const HeadRun *run)
{
	const Py_ssize_t width = run->width, tags = run->tags;
	int32_t *restrict sums = run->sums;
	float *restrict hidden = run->hidden;
	Py_ssize_t *restrict active = run->active, nactive;
#ifdef HAVE_BLOCKS
	/* Whole blocks of tags (the caller pads them, segcli.pos.WordHead): the fast path. */
	const Py_ssize_t nblocks = tags % BLOCK == 0 && tags <= BLOCK * MAX_BLOCKS ? tags / BLOCK : 0;
#endif
	float *restrict logits = run->logits;
	Py_ssize_t k, d, t;
	int j, any;
	for (k = 0; k < run->nwords; k++) {
		const int32_t *f = run->features + k * NFEATURES;
		Py_ssize_t best = 0;
		float top;
		if (k + PREFETCH_AHEAD < run->nwords) {
			const int32_t *ahead = f + PREFETCH_AHEAD * NFEATURES;
			for (j = 0; j < NFEATURES; j++)
				if (ahead[j] >= 0 && ahead[j] < run->rows)
					PREFETCH(run->table + (Py_ssize_t)ahead[j] * width);
		}
		/* The first row is copied rather than added to zeros: a memset a
		 * word was a library call a word. */
		any = 0;
		for (j = 0; j < NFEATURES; j++) {
			const int8_t *restrict row;
			if (f[j] == -1)
				continue;
			if (f[j] < 0 || f[j] >= run->rows)
				return -1;
			row = run->table + (Py_ssize_t)f[j] * width;
			if (any) {
				for (d = 0; d < width; d++)
					sums[d] += row[d];
			} else {
				for (d = 0; d < width; d++)
					sums[d] = row[d];
				any = 1;
			}
		}
		if (!any)
			for (d = 0; d < width; d++)
				sums[d] = 0;
		for (d = 0; d < width; d++) {
			const float scaled = run->scales[d] * (float)sums[d];
			hidden[d] = scaled + run->biases[d];
		}
		nactive = 0;
		for (d = 0; d < width; d++)
			if (hidden[d] > 0.0f)
				active[nactive++] = d;
#ifdef HAVE_BLOCKS
		if (nblocks) {
			/* Every block of tag scores at once, in registers over the units:
			 * each score still adds its units in order of d, and the blocks'
			 * additions do not wait on each other. */
			Block acc[MAX_BLOCKS], most;
			Py_ssize_t a, i;
			for (i = 0; i < nblocks; i++)
				memcpy(&acc[i], run->out_biases + i * BLOCK, sizeof acc[i]);
			for (a = 0; a < nactive; a++) {
				const Block unit = (Block){0} + hidden[active[a]];
				const float *w = run->weights + active[a] * tags;
				for (i = 0; i < nblocks; i++) {
					Block row, product;
					memcpy(&row, w + i * BLOCK, sizeof row);
					product = row * unit;
					acc[i] += product;
				}
			}
			/* The largest score, lane by lane and then across the lanes (a
			 * NaN compares false, so it is never kept). */
			most = (Block){0} - INFINITY;
			for (i = 0; i < nblocks; i++) {
				const Mask larger = acc[i] > most;
				most = (Block)((larger & (Mask)acc[i]) | (~larger & (Mask)most));
			}
			top = -INFINITY;
			for (i = 0; i < BLOCK; i++)
				if (most[i] > top)
					top = most[i];
			/* The first largest (NaN counts as -inf: all -inf or NaN, the first). */
			for (i = 0, t = top == -INFINITY; i < nblocks && t == 0; i++)
				for (j = 0; j < BLOCK; j++)
					if (acc[i][j] == top) {
						best = i * BLOCK + j;
						t = 1;
						break;
					}
		} else
#endif
		{
			memcpy(logits, run->out_biases, (size_t)tags * sizeof(float));
			for (d = 0; d < width; d++) {
				const float unit = hidden[d];
				const float *restrict w = run->weights + d * tags;
				if (!(unit > 0.0f))
					continue;
				for (t = 0; t < tags; t++) {
					const float product = unit * w[t];
					logits[t] += product;
				}
			}
			top = -INFINITY;
			for (t = 0; t < tags; t++)
				if (logits[t] > top)
					top = logits[t];
			for (t = 0; t < tags && top != -INFINITY; t++) {
				if (logits[t] == top) {
					best = t;
					break;
				}
			}
		}
		run->ids[k] = best;
	}
	return 0;
}

static int
tag_words_baseline(const HeadRun *run)
{
	return tag_words(run);
}

/* Eight products at a time where the CPU has AVX2 (x86-64's baseline has
 * four): half the time of the head, most of which is the tag scores. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX2_CLONE 1
__attribute__((target("avx2"))) static int
tag_words_avx2(const HeadRun *run)
{
	return tag_words(run);
}
#endif

static PyObject *
word_head(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { FEATURES, TABLE, SCALES, BIASES, WEIGHTS, OUT_BIASES, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"features", sizeof(int32_t)}, {"table", sizeof(int8_t)}, {"scales", sizeof(float)},
		{"biases", sizeof(float)}, {"weights", sizeof(float)}, {"out_biases", sizeof(float)},
		{"ids", sizeof(int64_t)},
	};
	Py_buffer v[VIEWS];
	HeadRun run;
	PyObject *result = NULL;
	int failed = 0;

	memset(&run, 0, sizeof run);
	if (take_buffers(args, v, specs, VIEWS, "y*y*ny*y*y*y*w*:word_head", &v[FEATURES], &v[TABLE], &run.width,
	                 &v[SCALES], &v[BIASES], &v[WEIGHTS], &v[OUT_BIASES], &v[IDS]) < 0)
		return NULL;
	run.nwords = v[IDS].len / (Py_ssize_t)sizeof(int64_t);
	run.tags = v[OUT_BIASES].len / (Py_ssize_t)sizeof(float);
	if (run.width < 1 || run.tags > PY_SSIZE_T_MAX / run.width || v[TABLE].len % run.width != 0 ||
	    v[SCALES].len / (Py_ssize_t)sizeof(float) != run.width ||
	    v[BIASES].len / (Py_ssize_t)sizeof(float) != run.width || run.tags < 1 ||
	    v[WEIGHTS].len / (Py_ssize_t)sizeof(float) != run.width * run.tags) {
		PyErr_SetString(PyExc_ValueError, "table: rows of `width` (>= 1); scales, biases: `width` each; "
		                "weights: `width` rows of one weight a tag (>= 1 tag, out_biases)");
		goto done;
	}
	if (v[FEATURES].len / (Py_ssize_t)sizeof(int32_t) != run.nwords * NFEATURES) {
		PyErr_SetString(PyExc_ValueError, "features: 12 a word (ids)");
		goto done;
	}
	run.rows = v[TABLE].len / run.width;
	run.features = (const int32_t *)v[FEATURES].buf;
	run.table = (const int8_t *)v[TABLE].buf;
	run.scales = (const float *)v[SCALES].buf;
	run.biases = (const float *)v[BIASES].buf;
	run.weights = (const float *)v[WEIGHTS].buf;
	run.out_biases = (const float *)v[OUT_BIASES].buf;
	run.ids = (int64_t *)v[IDS].buf;
	run.sums = PyMem_RawMalloc((size_t)run.width * sizeof(int32_t));
	run.hidden = PyMem_RawMalloc((size_t)run.width * sizeof(float));
	run.active = PyMem_RawMalloc((size_t)run.width * sizeof(Py_ssize_t));
	run.logits = PyMem_RawMalloc((size_t)run.tags * sizeof(float));
	if (run.sums == NULL || run.hidden == NULL || run.active == NULL || run.logits == NULL) {
		PyErr_NoMemory();
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
#ifdef HAVE_AVX2_CLONE
	if (__builtin_cpu_supports("avx2"))
		failed = tag_words_avx2(&run);
	else
#endif
		failed = tag_words_baseline(&run);
	Py_END_ALLOW_THREADS

	result = none_unless(failed, "features: a bucket outside the table");
done:
	PyMem_RawFree(run.sums);
	PyMem_RawFree(run.hidden);
	PyMem_RawFree(run.active);
	PyMem_RawFree(run.logits);
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef tags_methods[] = {
	METHOD(word_features),
	METHOD(word_head),
	END_OF_METHODS
};
