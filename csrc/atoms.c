/* The loops of segcli/atoms.py: the runs of characters an atom can be made
 * of (atom_runs: the regular expression runs over them alone), and atoms'
 * spans ruled out of the tag scores (constrain); and of segcli/boundaries.py:
 * the pairs of neighbours that may not share a word (boundary_cuts) and
 * their joining tags ruled out (require_cuts).
 *
 * Twins: _runs_twin and _constrain_twin in tests/test_atoms.py,
 * pair_cuts_twin in tests/test_boundaries.py.
 */
#include "core.h"

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
atom_runs(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, TABLE, STARTS, ENDS, JOINED, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"cps", sizeof(uint32_t)}, {"table", 1}, {"starts", sizeof(int64_t)},
	                                        {"ends", sizeof(int64_t)}, {"joined", sizeof(uint32_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, ntable, count = 0, written = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*w*w*w*:atom_runs", &v[CPS], &v[TABLE], &v[STARTS], &v[ENDS],
	                 &v[JOINED]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	ntable = v[TABLE].len;
	/* Runs of two or more, apart: at most (n + 1) / 3 of them, n + (n + 1) / 3 code points joined. */
	if (v[STARTS].len != v[ENDS].len || v[STARTS].len / (Py_ssize_t)sizeof(int64_t) < n / 2 + 1 ||
	    v[JOINED].len / (Py_ssize_t)sizeof(uint32_t) < n + n / 2 + 1) {
		PyErr_SetString(PyExc_ValueError, "starts and ends: at least len(cps) // 2 + 1 items each; "
		                                  "joined: at least len(cps) + len(cps) // 2 + 1");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *t = (const uint8_t *)v[TABLE].buf;
		int64_t *so = (int64_t *)v[STARTS].buf, *eo = (int64_t *)v[ENDS].buf;
		uint32_t *jo = (uint32_t *)v[JOINED].buf;
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
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(constrain_doc,
"constrain(scores, starts, ends, penalty) -> None\n\
\n\
Rules out every cut inside the spans [starts[k], ends[k]) of the (N, 4)\n\
float32 tag scores, in place: penalty comes off s at each of a span's\n\
positions, off b at all but its first and off e at all but its last.\n\
starts, ends: int64, as many; spans in order, apart, within the scores.");

static PyObject *
constrain(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { SCORES, STARTS, ENDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"scores", sizeof(float)}, {"starts", sizeof(int64_t)}, {"ends", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	double penalty;
	Py_ssize_t nrows, nspans, k;
	int64_t *spans = NULL;

	if (take_buffers(args, v, specs, VIEWS, "w*y*y*d:constrain", &v[SCORES], &v[STARTS], &v[ENDS], &penalty) < 0)
		return NULL;
	if (v[SCORES].len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0 || v[STARTS].len != v[ENDS].len) {
		PyErr_SetString(PyExc_ValueError, "scores: (N, 4) items; starts and ends: as many each");
		goto done;
	}
	nrows = v[SCORES].len / (Py_ssize_t)(NTAGS * sizeof(float));
	nspans = v[STARTS].len / (Py_ssize_t)sizeof(int64_t);
	/* The spans are copied, then checked: the writes below, without the GIL,
	 * could otherwise change them (ends may share the scores' memory). */
	spans = (int64_t *)malloc(2 * ((size_t)nspans + 1) * sizeof(int64_t));
	if (spans == NULL) {
		PyErr_NoMemory();
		goto done;
	}
	memcpy(spans, v[STARTS].buf, (size_t)nspans * sizeof(int64_t));
	memcpy(spans + nspans, v[ENDS].buf, (size_t)nspans * sizeof(int64_t));
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
		float *s = (float *)v[SCORES].buf;
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

	result = none();
done:
	free(spans);
	return release_buffers(v, VIEWS, result);
}

/* Character classes and rule bits: segcli/boundaries.py owns them (its
 * twin test checks that the two agree). */
enum { C_UNKNOWN, C_NONE, C_HAN, C_LATIN, C_DIGIT, C_LETTER, C_PUNCT, C_CONNECTOR, C_DIGIT_CONNECTOR, C_UNIT, C_EMOJI,
       C_MARK, C_KEYCAP };
enum { R_PUNCTUATION = 1, R_RUNS = 2, R_EMOJI = 4, R_LATIN_HAN = 8, R_PKU_BRACKETS = 16 };
#define IS_WORD(c) ((c) >= C_HAN && (c) <= C_LETTER)
#define IS_PUNCT(c) ((c) >= C_PUNCT && (c) <= C_UNIT)
/* A dot between a Latin letter and a Han character ends an abbreviation
 * (i.e.即, U.S.的): it connects nothing. */
/* Sentence and clause marks repeated (！！！, 。。。, ？？, ，，) are a token each,
 * as the corpora that have them write them (boundaries.REPEATS_APART). */
#define REPEATS_APART(f) ((f) == '!' || (f) == '?' || (f) == ',' || (f) == 0x3002 || (f) == 0x3001)
#define LATIN_HAN(a, b) (((a) == C_LATIN && (b) == C_HAN) || ((a) == C_HAN && (b) == C_LATIN))

/* What the rules say of the pair (i, i + 1), given the base class before i,
 * the base class of i, the class of i + 1 and of i + 2: 0 nothing, 1 a cut,
 * 2 a cut Python decides (Latin|Han, a pku bracket). */
static inline int
pair_kind(int rules, uint8_t before, uint8_t left, uint8_t right, uint8_t after, uint32_t folded_left,
          uint32_t folded_right, const uint32_t *raw)
{
	if (right == C_MARK || right == C_KEYCAP)
		return 0; /* a mark belongs to the character before it */
	if (rules & R_PUNCTUATION) {
		int cut = 0;
		if (IS_PUNCT(left) && IS_WORD(right))
			cut = !((left == C_CONNECTOR && IS_WORD(before) && !(folded_left == '.' && LATIN_HAN(before, right))) ||
			        (left == C_DIGIT_CONNECTOR && before == C_DIGIT && right == C_DIGIT) ||
			        (left == C_UNIT && right == C_DIGIT));
		else if (IS_WORD(left) && IS_PUNCT(right))
			cut = !((right == C_CONNECTOR && IS_WORD(after) && !(folded_right == '.' && LATIN_HAN(left, after))) ||
			        (right == C_DIGIT_CONNECTOR && left == C_DIGIT && after == C_DIGIT) ||
			        (right == C_UNIT && left == C_DIGIT));
		if (cut)
			return (rules & R_PKU_BRACKETS) && (raw[0] == '[' || raw[1] == ']') ? 2 : 1;
	}
	if ((rules & R_RUNS) && IS_PUNCT(left) && IS_PUNCT(right) &&
	    (folded_left != folded_right || REPEATS_APART(folded_left)))
		return 1;
	if ((rules & R_EMOJI) && ((left == C_EMOJI && right != C_NONE) || (right == C_EMOJI && left != C_NONE)))
		return 1;
	if ((rules & R_LATIN_HAN) && LATIN_HAN(left, right))
		return 2;
	return 0;
}

PyDoc_STRVAR(boundary_cuts_doc,
"boundary_cuts(folded, cps, table, rules, atom_starts, atom_ends, span_starts, span_reach, cuts, deferred)\n\
-> tuple[int, int, int]\n\
\n\
The pairs (i, i + 1) of neighbours the rules (bits) keep apart, outside the\n\
atoms [atom_starts[k], atom_ends[k]) (in order, apart) and the spans from\n\
span_starts[k] (sorted) to span_reach[k] (the furthest end of spans 0..k):\n\
each i into cuts, or into deferred where boundaries.py decides.  Returns\n\
(cuts, deferred, 1 if a code point's class was unknown and the loop\n\
stopped there, else 0).  folded, cps: uint32, as many; table: uint8 class\n\
by code point (C_NONE past it); cuts, deferred: int64, len(folded) each.");

static PyObject *
boundary_cuts(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { FOLDED, CPS, TABLE, ASTARTS, AENDS, SSTARTS, SREACH, CUTS, DEFERRED, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"folded", sizeof(uint32_t)}, {"cps", sizeof(uint32_t)}, {"table", 1},
		{"atom_starts", sizeof(int64_t)}, {"atom_ends", sizeof(int64_t)}, {"span_starts", sizeof(int64_t)},
		{"span_reach", sizeof(int64_t)}, {"cuts", sizeof(int64_t)}, {"deferred", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	int rules, unknown = 0;
	Py_ssize_t n, ntable, natoms, nspans, ncuts = 0, ndeferred = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*iy*y*y*y*w*w*:boundary_cuts", &v[FOLDED], &v[CPS], &v[TABLE],
	                 &rules, &v[ASTARTS], &v[AENDS], &v[SSTARTS], &v[SREACH], &v[CUTS], &v[DEFERRED]) < 0)
		return NULL;
	n = v[FOLDED].len / (Py_ssize_t)sizeof(uint32_t);
	ntable = v[TABLE].len;
	natoms = v[ASTARTS].len / (Py_ssize_t)sizeof(int64_t);
	nspans = v[SSTARTS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[CPS].len != v[FOLDED].len || v[AENDS].len != v[ASTARTS].len || v[SREACH].len != v[SSTARTS].len ||
	    v[CUTS].len / (Py_ssize_t)sizeof(int64_t) < n || v[DEFERRED].len / (Py_ssize_t)sizeof(int64_t) < n) {
		PyErr_SetString(PyExc_ValueError, "cps: as many as folded; atom and span bounds: as many each; "
		                                  "cuts and deferred: len(folded) items each");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *f = (const uint32_t *)v[FOLDED].buf, *c = (const uint32_t *)v[CPS].buf;
		const uint8_t *t = (const uint8_t *)v[TABLE].buf;
		const int64_t *as = (const int64_t *)v[ASTARTS].buf, *ae = (const int64_t *)v[AENDS].buf;
		const int64_t *ss = (const int64_t *)v[SSTARTS].buf, *sr = (const int64_t *)v[SREACH].buf;
		int64_t *co = (int64_t *)v[CUTS].buf, *dout = (int64_t *)v[DEFERRED].buf;
		Py_ssize_t i, ka = 0, ks = 0;
		/* The window of code points and classes at i, i + 1 and i + 2, each
		 * read once (no GIL: the buffers may change meanwhile). */
		uint32_t f1 = 0, f2 = 0;
		uint8_t before = C_NONE, base = C_NONE, k1 = C_NONE, k2 = C_NONE;
#define CLASS(cp) ((size_t)(cp) < (size_t)ntable ? t[(cp)] : (uint8_t)C_NONE)
		if (n > 1) {
			f1 = f[0], k1 = CLASS(f1);
			f2 = f[1], k2 = CLASS(f2);
			unknown = k1 == C_UNKNOWN || k2 == C_UNKNOWN;
		}
		for (i = 0; i + 1 < n && !unknown; i++) {
			uint32_t f0 = f1;
			uint8_t k0 = k1, right;
			int kind;
			f1 = f2, k1 = k2;
			k2 = C_NONE;
			if (i + 2 < n) {
				f2 = f[i + 2], k2 = CLASS(f2);
				if (k2 == C_UNKNOWN) {
					unknown = 1;
					break;
				}
			}
			before = i ? base : C_NONE;
			if (k0 == C_KEYCAP)
				base = C_EMOJI; /* a keycap's digit, # or * is an emoji */
			else if (k0 != C_MARK || i == 0)
				base = k0;
			if (base == C_HAN && k1 == C_HAN)
				continue; /* most pairs of Chinese text: no rule */
			/* The digit, # or * that begins a keycap (0⃣, 0️⃣) is an emoji, as
			 * the keycap mark makes it for what follows. */
			right = k1;
			if ((k1 == C_DIGIT || f1 == '#' || f1 == '*') &&
			    i + 2 < n && (f2 == 0x20E3 || (f2 == 0xFE0F && i + 3 < n && f[i + 3] == 0x20E3)))
				right = C_EMOJI;
			kind = pair_kind(rules, before, base, right, k2, f0, f1, c + i);
			if (!kind && !((rules & R_LATIN_HAN) && base == C_DIGIT && k1 == C_HAN) &&
			    !((rules & R_PUNCTUATION) && ((base == C_HAN && f1 == '/') || (f0 == '/' && k1 == C_HAN))))
				continue;
			while (ka < natoms && ae[ka] < i + 2)
				ka++;
			if (!kind && (base == C_HAN || k1 == C_HAN) && (f0 == '/' || f1 == '/')) {
				/* A slash that begins or ends a path next to Han (见/usr/bin,
				 * ./data/目录) connects nothing: 元/KG is no atom. */
				if (base == C_HAN ? ka < natoms && as[ka] == i + 1 : ka > 0 && ae[ka - 1] == i + 1)
					kind = 1;
				else
					continue;
			}
			if (!kind) {
				/* A Latin word's last digit next to Han (Q3财报, Win10系统) is
				 * a change of script: an atom with a Latin letter ends at i. */
				int64_t first = ka > 0 && ae[ka - 1] == i + 1 ? as[ka - 1] : i + 1; /* read once */
				Py_ssize_t j;
				for (j = first < 0 ? 0 : (Py_ssize_t)first; j < i && !kind; j++)
					kind = CLASS(f[j]) == C_LATIN ? 2 : 0;
				if (!kind)
					continue;
			}
			if (ka < natoms && as[ka] <= i)
				continue;
			while (ks < nspans && ss[ks] <= i)
				ks++;
			if (ks > 0 && sr[ks - 1] >= i + 2)
				continue;
			if (kind == 1)
				co[ncuts++] = i;
			else
				dout[ndeferred++] = i;
		}
#undef CLASS
	}
	Py_END_ALLOW_THREADS

	result = Py_BuildValue("(nni)", ncuts, ndeferred, unknown);
done:
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(require_cuts_doc,
"require_cuts(scores, cuts, penalty) -> None\n\
\n\
For each i of cuts, penalty comes off b and m at row i and off m and e at\n\
row i + 1 of the (N, 4) float32 tag scores, in place: a word must end at i.\n\
cuts: int64, each in [0, N - 1).");

static PyObject *
require_cuts(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { SCORES, CUTS, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"scores", sizeof(float)}, {"cuts", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	double penalty;
	int failed = 0;

	if (take_buffers(args, v, specs, VIEWS, "w*y*d:require_cuts", &v[SCORES], &v[CUTS], &penalty) < 0)
		return NULL;
	if (v[SCORES].len % (Py_ssize_t)(NTAGS * sizeof(float)) != 0) {
		PyErr_SetString(PyExc_ValueError, "scores: (N, 4) items");
		return release_buffers(v, VIEWS, NULL);
	}

	Py_BEGIN_ALLOW_THREADS
	{
		float *s = (float *)v[SCORES].buf;
		const int64_t *cuts = (const int64_t *)v[CUTS].buf;
		const int64_t nrows = (int64_t)(v[SCORES].len / (Py_ssize_t)(NTAGS * sizeof(float)));
		const Py_ssize_t ncuts = v[CUTS].len / (Py_ssize_t)sizeof(int64_t);
		const float p = (float)penalty;
		Py_ssize_t k;
		for (k = 0; k < ncuts; k++) {
			int64_t i = cuts[k]; /* read once: checked, then used */
			if (i < 0 || i + 1 >= nrows) {
				failed = 1;
				break;
			}
			s[i * NTAGS + B] -= p;
			s[i * NTAGS + M] -= p;
			s[(i + 1) * NTAGS + M] -= p;
			s[(i + 1) * NTAGS + E] -= p;
		}
	}
	Py_END_ALLOW_THREADS

	return release_buffers(v, VIEWS, none_unless(failed, "cuts must lie in [0, N - 1) of the scores"));
}

PyDoc_STRVAR(known_spans_doc,
"known_spans(ids, width, pair, size, keys, segments, covered) -> None\n\
\n\
For each row of ids (int64 char ids, `width` a row; 1 is unknown): does a\n\
run of columns [a, b) with a <= pair < pair + 1 < b spell a key (the ids in\n\
base `size`) found in keys[start:end] for a row (length, start, end) of\n\
segments (int64, three a row; each slice of keys sorted) whose length is\n\
b - a.  Into covered (uint8, a byte a row of ids).");

static PyObject *
known_spans(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { IDS, KEYS, SEGMENTS, COVERED, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"ids", sizeof(int64_t)}, {"keys", sizeof(int64_t)},
	                                        {"segments", sizeof(int64_t)}, {"covered", 1}};
	Py_buffer v[VIEWS];
	Py_ssize_t width, pair, rows, nkeys, nsegments, j, k;
	long long size;
	const int64_t *ids, *keys, *seg;
	uint8_t *covered;

	/* The GIL stays held: a few keys a junction, and nothing can change the
	 * buffers meanwhile. */
	if (take_buffers(args, v, specs, VIEWS, "y*nnLy*y*w*:known_spans", &v[IDS], &width, &pair, &size, &v[KEYS],
	                 &v[SEGMENTS], &v[COVERED]) < 0)
		return NULL;
	nkeys = v[KEYS].len / (Py_ssize_t)sizeof(int64_t);
	nsegments = v[SEGMENTS].len / (Py_ssize_t)(3 * sizeof(int64_t));
	rows = width > 0 ? v[IDS].len / (Py_ssize_t)sizeof(int64_t) / width : 0;
	ids = (const int64_t *)v[IDS].buf, keys = (const int64_t *)v[KEYS].buf, seg = (const int64_t *)v[SEGMENTS].buf;
	covered = (uint8_t *)v[COVERED].buf;
	if (width <= 0 || pair < 0 || pair + 1 >= width || rows * width * (Py_ssize_t)sizeof(int64_t) != v[IDS].len ||
	    v[SEGMENTS].len % (Py_ssize_t)(3 * sizeof(int64_t)) != 0 || v[COVERED].len != rows) {
		PyErr_SetString(PyExc_ValueError, "ids: rows of width items, 0 <= pair < width - 1; segments: three "
		                                  "items a row; covered: a byte a row");
		return release_buffers(v, VIEWS, NULL);
	}
	for (k = 0; k < nsegments; k++) {
		if (seg[3 * k + 1] < 0 || seg[3 * k + 1] > seg[3 * k + 2] || seg[3 * k + 2] > nkeys) {
			PyErr_SetString(PyExc_ValueError, "segments must lie within the keys");
			return release_buffers(v, VIEWS, NULL);
		}
	}
	for (j = 0; j < rows; j++) {
		const int64_t *row = ids + j * width;
		Py_ssize_t a, b;
		int found = 0;
		for (a = 0; a <= pair && !found; a++) {
			int64_t key = 0;
			for (b = a + 1; b <= width && !found; b++) {
				if (row[b - 1] == 1)
					break; /* an unknown character is in no known word */
				key = key * (int64_t)size + row[b - 1];
				if (b < pair + 2)
					continue;
				for (k = 0; k < nsegments && !found; k++) {
					Py_ssize_t lo = (Py_ssize_t)seg[3 * k + 1], hi = (Py_ssize_t)seg[3 * k + 2];
					if (seg[3 * k] != b - a)
						continue;
					while (lo < hi) { /* the first key >= key */
						Py_ssize_t mid = lo + (hi - lo) / 2;
						if (keys[mid] < key)
							lo = mid + 1;
						else
							hi = mid;
					}
					found = lo < (Py_ssize_t)seg[3 * k + 2] && keys[lo] == key;
				}
			}
		}
		covered[j] = (uint8_t)found;
	}
	return release_buffers(v, VIEWS, none());
}

HIDDEN PyMethodDef atoms_methods[] = {
	METHOD(atom_runs),
	METHOD(constrain),
	METHOD(boundary_cuts),
	METHOD(require_cuts),
	METHOD(known_spans),
	END_OF_METHODS
};
