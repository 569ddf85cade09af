/* The loops of segcli/trie.py: a user dictionary's words found in a batch's
 * code points by walking its Aho-Corasick automaton (trie_walk), its
 * one-character words found by binary search (single_matches), and an
 * automaton's arrays checked whole before any of them is walked
 * (trie_check: they may come from a cache file).
 *
 * Twins: _walk_twin, _singles_twin and _check_twin in tests/test_match.py,
 * and pyahocorasick's own iter, which trie_walk's matches equal in content
 * and order.
 *
 * An automaton is five arrays over its n nodes, numbered level by level
 * from the root (node 0), a level's nodes by parent and then by letter:
 * first (n + 1 items): node u's children are the nodes first[u] ..
 * first[u + 1] - 1, their letters in letter[] ascending; fail: the node of
 * the longest proper suffix of u's word that is in the trie; value: the id
 * of the word that ends at u, or -1; suffix: the first node on u's chain of
 * fail links (u itself excluded) where a word ends, 0 if none (the root is
 * no word).  Optionally a table of the root's children by every letter below
 * 0x10000 (0: none), for the root is the widest node and the most visited.
 */
#include "core.h"

#define ROOT_TABLE 0x10000  /* letters a root table covers */
#define MAX_LETTER 0x10FFFF
#define LINEAR 8            /* children scanned one by one up to this many */

typedef struct {
	const uint32_t *first, *letter, *fail, *suffix, *root;
	const int32_t *value;
	uint32_t n;
	int has_root;
} Trie;

/* --- walking ------------------------------------------------------------- */

/* The child of node v (< n) by letter c: 0 if it has none; UINT32_MAX if
 * its children lie outside the arrays.  Every index read is checked before
 * it is used: the arrays may be rewritten meanwhile (no GIL). */
static inline uint32_t
child_of(const Trie *t, uint32_t v, uint32_t c)
{
	uint32_t lo, hi, found;
	if (v == 0 && t->has_root && c < ROOT_TABLE) {
		found = t->root[c];
		return found < t->n ? found : UINT32_MAX;
	}
	lo = t->first[v];
	hi = t->first[v + 1];
	if (hi > t->n || lo > hi)
		return UINT32_MAX;
	while (hi - lo > LINEAR) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->letter[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < hi; lo++) {
		uint32_t l = t->letter[lo];
		if (l >= c)
			return l == c ? lo : 0;
	}
	return 0;
}

/* The state after reading c in state v: its child by c, or that of the
 * first node on its chain of fail links that has one, or the root.  At most
 * `longest` links are followed (a well-formed chain is no longer than its
 * node's depth); UINT32_MAX for arrays that are not an automaton. */
static inline uint32_t
next_state(const Trie *t, uint32_t v, uint32_t c, int64_t longest)
{
	int64_t steps;
	for (steps = 0;; steps++) {
		uint32_t next = child_of(t, v, c);
		if (next != 0)
			return next;
		if (v == 0)
			return 0;
		if (steps >= longest)
			return UINT32_MAX;
		v = t->fail[v];
		if (v >= t->n)
			return UINT32_MAX;
	}
}

/* Writes the words that end in state v (its own, then those along its fail
 * links, as pyahocorasick's iter gives them) at position i into ends/ids
 * from *count on while there is room, counting them all.  Returns -1 for
 * arrays that are not an automaton. */
static inline int
emit(const Trie *t, uint32_t v, int64_t i, int64_t longest, int64_t *ends, int64_t *ids, int64_t room,
     int64_t *count)
{
	int64_t steps;
	if (t->value[v] < 0)
		v = t->suffix[v];
	for (steps = 0; v != 0; steps++) {
		int32_t id;
		if (v >= t->n || steps > longest || (id = t->value[v]) < 0)
			return -1;
		if (*count < room) {
			ends[*count] = i;
			ids[*count] = id;
		}
		(*count)++;
		v = t->suffix[v];
	}
	return 0;
}

/* Checks the sizes of an automaton's five arrays and its root table, and
 * points t at them; -1 with an exception set if they do not fit. */
static int
take_trie(Trie *t, const Py_buffer *first, const Py_buffer *letter, const Py_buffer *fail, const Py_buffer *value,
          const Py_buffer *suffix, const Py_buffer *root)
{
	Py_ssize_t n = value->len / (Py_ssize_t)sizeof(int32_t);
	if (n < 1 || n > (Py_ssize_t)UINT32_MAX - 1 || first->len != (n + 1) * (Py_ssize_t)sizeof(uint32_t) ||
	    letter->len != n * (Py_ssize_t)sizeof(uint32_t) || fail->len != letter->len ||
	    suffix->len != letter->len || (root->len != 0 && root->len != ROOT_TABLE * (Py_ssize_t)sizeof(uint32_t))) {
		PyErr_SetString(PyExc_ValueError, "first: n + 1 items; letter, fail, value, suffix: n >= 1 items each; "
		                                  "root: none or 65536");
		return -1;
	}
	t->first = (const uint32_t *)first->buf;
	t->letter = (const uint32_t *)letter->buf;
	t->fail = (const uint32_t *)fail->buf;
	t->value = (const int32_t *)value->buf;
	t->suffix = (const uint32_t *)suffix->buf;
	t->root = (const uint32_t *)root->buf;
	t->has_root = root->len != 0;
	t->n = (uint32_t)n;
	return 0;
}

PyDoc_STRVAR(trie_walk_doc,
"trie_walk(cps, first, letter, fail, value, suffix, root, longest, ends, ids) -> int\n\
\n\
Every occurrence of the automaton's words in cps, as pyahocorasick's iter\n\
finds them: by end position, and at one position the longest word first,\n\
then the words along its fail links.  Their end positions and word ids go\n\
into ends and ids (int64, as many) while there is room; returns how many\n\
there are, which may be more than len(ends) (then call again with room for\n\
all).  cps, first, letter, fail, suffix, root: uint32; value: int32 (see\n\
match.c); longest: the longest word's length.");

static PyObject *
trie_walk(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, FIRST, LETTER, FAIL, VALUE, SUFFIX, ROOT, ENDS, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"first", sizeof(uint32_t)}, {"letter", sizeof(uint32_t)},
		{"fail", sizeof(uint32_t)}, {"value", sizeof(int32_t)}, {"suffix", sizeof(uint32_t)},
		{"root", sizeof(uint32_t)}, {"ends", sizeof(int64_t)}, {"ids", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Trie t;
	long long longest;
	int64_t count = 0;
	int failed = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*y*y*y*Lw*w*:trie_walk", &v[CPS], &v[FIRST], &v[LETTER],
	                 &v[FAIL], &v[VALUE], &v[SUFFIX], &v[ROOT], &longest, &v[ENDS], &v[IDS]) < 0)
		return NULL;
	if (take_trie(&t, &v[FIRST], &v[LETTER], &v[FAIL], &v[VALUE], &v[SUFFIX], &v[ROOT]) < 0)
		goto done;
	if (v[ENDS].len != v[IDS].len || longest < 0) {
		PyErr_SetString(PyExc_ValueError, "ends and ids: as many items each; longest: >= 0");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		int64_t *ends = (int64_t *)v[ENDS].buf, *ids = (int64_t *)v[IDS].buf;
		const int64_t n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
		const int64_t room = v[ENDS].len / (Py_ssize_t)sizeof(int64_t);
		uint32_t state = 0;
		int64_t i;
		for (i = 0; i < n; i++) {
			state = next_state(&t, state, c[i], longest);
			if (state == UINT32_MAX || emit(&t, state, i, longest, ends, ids, room, &count) < 0) {
				failed = 1;
				break;
			}
		}
	}
	Py_END_ALLOW_THREADS

	if (failed)
		PyErr_SetString(PyExc_ValueError, "the arrays are not an automaton (see trie_check)");
	else
		result = PyLong_FromLongLong(count);
done:
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(single_matches_doc,
"single_matches(cps, chars, ids, ends, found) -> int\n\
\n\
The positions of cps whose code point is in chars (sorted int64) into ends,\n\
ids[k] for chars[k] into found, in order; returns how many.  cps: uint32;\n\
ids: int64 as many as chars; ends, found: int64 of at least len(cps).");

static PyObject *
single_matches(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, CHARS, IDS, ENDS, FOUND, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"cps", sizeof(uint32_t)}, {"chars", sizeof(int64_t)},
	                                        {"ids", sizeof(int64_t)}, {"ends", sizeof(int64_t)},
	                                        {"found", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, nchars, count = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*w*w*:single_matches", &v[CPS], &v[CHARS], &v[IDS], &v[ENDS],
	                 &v[FOUND]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	nchars = v[CHARS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[IDS].len != v[CHARS].len || v[ENDS].len != v[FOUND].len ||
	    v[ENDS].len / (Py_ssize_t)sizeof(int64_t) < n) {
		PyErr_SetString(PyExc_ValueError, "ids: as many as chars; ends and found: at least len(cps) each");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	if (nchars > 0) {
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const int64_t *chars = (const int64_t *)v[CHARS].buf, *ids = (const int64_t *)v[IDS].buf;
		int64_t *ends = (int64_t *)v[ENDS].buf, *found = (int64_t *)v[FOUND].buf;
		Py_ssize_t i;
		for (i = 0; i < n; i++) {
			const int64_t cp = c[i];
			/* The last item not above cp, by halving a window of the size
			 * that remains (no branch on the comparison). */
			const int64_t *base = chars;
			Py_ssize_t size = nchars;
			while (size > 1) {
				Py_ssize_t half = size / 2;
				base = base[half] <= cp ? base + half : base;
				size -= half;
			}
			if (*base == cp) {
				ends[count] = i;
				found[count] = ids[base - chars];
				count++;
			}
		}
	}
	Py_END_ALLOW_THREADS

	result = PyLong_FromSsize_t(count);
done:
	return release_buffers(v, VIEWS, result);
}

/* --- checking ------------------------------------------------------------ */

/* Why the arrays are not a well-formed automaton, or NULL if they are; the
 * words' count into *words.  depth: room for n items; wanted: for each id
 * below nids, 1 if it must be in the trie (set to 2 once found). */
static const char *
check_nodes(const Trie *t, int64_t longest, const int64_t *lengths, uint8_t *wanted, int64_t nids, int32_t *depth,
            int64_t *words)
{
	const uint32_t n = t->n;
	uint32_t u, v;
	*words = 0;
	/* One tree, level by level: a node's children follow all earlier nodes'. */
	if (t->first[0] != 1 || t->first[n] != n)
		return "not a tree";
	depth[0] = 0;
	for (u = 0; u < n; u++) {
		uint32_t lo = t->first[u], hi = t->first[u + 1];
		if (lo < u + 1 || hi < lo || hi > n)
			return "not a tree";
		for (v = lo; v < hi; v++) {
			if (t->letter[v] > MAX_LETTER || (v > lo && t->letter[v] <= t->letter[v - 1]))
				return "letters out of order";
			depth[v] = depth[u] + 1;
			if (depth[v] > longest)
				return "deeper than the longest word";
		}
	}
	/* Fail links to shallower nodes, so that following them ends at the
	 * root; suffix links as the fail links make them. */
	if (t->fail[0] != 0 || t->suffix[0] != 0 || t->value[0] >= 0 || t->letter[0] != 0)
		return "bad root";
	for (v = 1; v < n; v++) {
		uint32_t f = t->fail[v];
		if (f >= n || depth[f] >= depth[v])
			return "bad fail link";
		if (t->suffix[v] != (t->value[f] >= 0 ? f : t->suffix[f]))
			return "bad suffix link";
	}
	for (v = 1; v < n; v++) {
		int32_t id = t->value[v];
		if (id < -1)
			return "bad word id";
		if (id < 0)
			continue;
		(*words)++;
		if (nids) {
			if (id >= nids || wanted[id] != 1 || lengths[id] != depth[v])
				return "other words";
			wanted[id] = 2;
		}
	}
	return NULL;
}

PyDoc_STRVAR(trie_check_doc,
"trie_check(first, letter, fail, value, suffix, longest, lengths, ids) -> int\n\
\n\
Checks that the arrays (as trie_walk takes them) are an automaton's: one\n\
tree numbered level by level, each node's letters ascending, no deeper than\n\
longest; fail links to shallower nodes, suffix links as they make them;\n\
and with lengths (int64, each id's word length), exactly the words ids\n\
(int64, distinct, below len(lengths)) at nodes of their length.  Returns\n\
the number of words; ValueError saying why if they are not.");

static PyObject *
trie_check(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { FIRST, LETTER, FAIL, VALUE, SUFFIX, LENGTHS, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"first", sizeof(uint32_t)}, {"letter", sizeof(uint32_t)}, {"fail", sizeof(uint32_t)},
		{"value", sizeof(int32_t)}, {"suffix", sizeof(uint32_t)}, {"lengths", sizeof(int64_t)},
		{"ids", sizeof(int64_t)}};
	Py_buffer v[VIEWS], no_root = {0};
	PyObject *result = NULL;
	Trie t;
	long long longest;
	int64_t nids, nwanted, k, words = 0;
	uint8_t *wanted = NULL;
	int32_t *depth = NULL;
	const char *error = NULL;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*y*Ly*y*:trie_check", &v[FIRST], &v[LETTER], &v[FAIL],
	                 &v[VALUE], &v[SUFFIX], &longest, &v[LENGTHS], &v[IDS]) < 0)
		return NULL;
	if (take_trie(&t, &v[FIRST], &v[LETTER], &v[FAIL], &v[VALUE], &v[SUFFIX], &no_root) < 0)
		goto done;
	nids = v[LENGTHS].len / (Py_ssize_t)sizeof(int64_t);
	nwanted = v[IDS].len / (Py_ssize_t)sizeof(int64_t);
	if (longest < 0 || longest > INT32_MAX || (!nids && nwanted)) {
		PyErr_SetString(PyExc_ValueError, "longest: 0 .. 2**31 - 1; ids: only with lengths");
		goto done;
	}
	depth = (int32_t *)malloc((size_t)t.n * sizeof(int32_t));
	wanted = (uint8_t *)calloc((size_t)nids + 1, 1);
	if (depth == NULL || wanted == NULL) {
		PyErr_NoMemory();
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *ids = (const int64_t *)v[IDS].buf;
		for (k = 0; k < nwanted && error == NULL; k++) {
			int64_t id = ids[k];
			if (id < 0 || id >= nids || wanted[id])
				error = "ids: distinct, each below len(lengths)";
			else
				wanted[id] = 1;
		}
		if (error == NULL)
			error = check_nodes(&t, longest, (const int64_t *)v[LENGTHS].buf, wanted, nids, depth, &words);
		if (error == NULL && nids && words != nwanted)
			error = "other words";
	}
	Py_END_ALLOW_THREADS

	if (error != NULL)
		PyErr_SetString(PyExc_ValueError, error);
	else
		result = PyLong_FromLongLong(words);
done:
	free(depth);
	free(wanted);
	return release_buffers(v, VIEWS, result);
}

HIDDEN PyMethodDef match_methods[] = {
	METHOD(trie_walk),
	METHOD(single_matches),
	METHOD(trie_check),
	END_OF_METHODS
};
