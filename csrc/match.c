/* The loops of segcli/trie.py: a user dictionary's words found in a batch's
 * code points by walking its Aho-Corasick automaton (trie_walk), its
 * one-character words found by a table or a binary search (single_matches),
 * and an automaton's arrays checked whole before any of them is walked
 * (trie_check: they may come from a cache file).
 *
 * Twins: _walk_twin, _singles_twin and _check_twin in tests/test_match.py,
 * and pyahocorasick's own iter, which trie_walk's matches equal in content
 * and order.
 *
 * An automaton is two arrays over its n nodes, numbered level by level from
 * the root (node 0), a level's nodes by parent and then by letter.  nodes:
 * int32 records of four, one per node and one after the last: FIRST, node
 * u's children are the nodes nodes[u].first .. nodes[u + 1].first - 1, their
 * letters in letter[] ascending; FAIL, the node of the longest proper suffix
 * of u's word that is in the trie; SUFFIX, the first node on u's chain of
 * fail links (u itself excluded) where a word ends, 0 if none (the root is
 * no word); VALUE, the id of the word that ends at u, or -1.  A node's record
 * is one read (one cache line) where five arrays were five.  letter: uint32,
 * the letter of the edge into each node.  Optionally a table of the root's
 * children by every letter below 0x10000 (0: none), for the root is the
 * widest node and the most visited.
 */
#include "core.h"

#define ROOT_TABLE 0x10000  /* letters a root table covers */
#define MAX_LETTER 0x10FFFF

enum { FIRST, FAIL, SUFFIX, VALUE, FIELDS };

typedef struct {
	const int32_t *nodes;
	const uint32_t *letter, *root;
	uint32_t n;
	int has_root;
} Trie;

/* Node v's field f, read once (the arrays may be rewritten meanwhile: no
 * GIL), as an unsigned number: a negative one is out of every range. */
#define FIELD(t, v, f) ((uint32_t)(t)->nodes[(size_t)(v) * FIELDS + (f)])

/* --- walking ------------------------------------------------------------- */

/* The child of node v (< n) by letter c: 0 if it has none; UINT32_MAX if
 * its children lie outside the arrays.  Every index read is checked before
 * it is used. */
static inline uint32_t
child_of(const Trie *t, uint32_t v, uint32_t c)
{
	uint32_t lo, hi, size;
	const uint32_t *at;
	if (v == 0 && t->has_root && c < ROOT_TABLE) {
		uint32_t found = t->root[c];
		return found < t->n ? found : UINT32_MAX;
	}
	lo = FIELD(t, v, FIRST);
	hi = FIELD(t, v + 1, FIRST);
	if (hi > t->n || lo > hi)
		return UINT32_MAX;
	if (lo == hi)
		return 0;
	/* The last child whose letter is not above c, by halving a window of
	 * the size that remains (no branch on the comparison). */
	at = t->letter + lo;
	for (size = hi - lo; size > 1; size -= size / 2)
		at = at[size / 2] <= c ? at + size / 2 : at;
	return *at == c ? (uint32_t)(at - t->letter) : 0;
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
		v = FIELD(t, v, FAIL);
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
	if (t->nodes[(size_t)v * FIELDS + VALUE] < 0)
		v = FIELD(t, v, SUFFIX);
	for (steps = 0; v != 0; steps++) {
		int32_t id;
		if (v >= t->n || steps > longest || (id = t->nodes[(size_t)v * FIELDS + VALUE]) < 0)
			return -1;
		if (*count < room) {
			ends[*count] = i;
			ids[*count] = id;
		}
		(*count)++;
		v = FIELD(t, v, SUFFIX);
	}
	return 0;
}

/* Checks the sizes of an automaton's arrays and its root table (NULL:
 * none), and points t at them; -1 with an exception set if they do not fit. */
static int
take_trie(Trie *t, const Py_buffer *nodes, const Py_buffer *letter, const Py_buffer *root)
{
	Py_ssize_t n = letter->len / (Py_ssize_t)sizeof(uint32_t);
	if (n < 1 || n >= INT32_MAX || nodes->len != (n + 1) * FIELDS * (Py_ssize_t)sizeof(int32_t) ||
	    (root && root->len != 0 && root->len != ROOT_TABLE * (Py_ssize_t)sizeof(uint32_t))) {
		PyErr_SetString(PyExc_ValueError, "letter: n >= 1 items; nodes: (n + 1) * 4; root: none or 65536");
		return -1;
	}
	t->nodes = (const int32_t *)nodes->buf;
	t->letter = (const uint32_t *)letter->buf;
	t->root = root ? (const uint32_t *)root->buf : NULL;
	t->has_root = root && root->len != 0;
	t->n = (uint32_t)n;
	return 0;
}

PyDoc_STRVAR(trie_walk_doc,
"trie_walk(cps, nodes, letter, root, longest, ends, ids) -> int\n\
\n\
Every occurrence of the automaton's words in cps, as pyahocorasick's iter\n\
finds them: by end position, and at one position the longest word first,\n\
then the words along its fail links.  Their end positions and word ids go\n\
into ends and ids (int64, as many) while there is room; returns how many\n\
there are, which may be more than len(ends) (then call again with room for\n\
all).  cps, letter, root: uint32; nodes: int32 (see match.c); longest: the\n\
longest word's length.");

static PyObject *
trie_walk(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, NODES, LETTER, ROOT, ENDS, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {
		{"cps", sizeof(uint32_t)}, {"nodes", sizeof(int32_t)}, {"letter", sizeof(uint32_t)},
		{"root", sizeof(uint32_t)}, {"ends", sizeof(int64_t)}, {"ids", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Trie t;
	long long longest;
	int64_t count = 0;
	int failed = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*Lw*w*:trie_walk", &v[CPS], &v[NODES], &v[LETTER], &v[ROOT],
	                 &longest, &v[ENDS], &v[IDS]) < 0)
		return NULL;
	if (take_trie(&t, &v[NODES], &v[LETTER], &v[ROOT]) < 0)
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
"single_matches(cps, table, chars, ids, ends, found) -> int\n\
\n\
The positions of cps whose code point is a one-character word into ends,\n\
its id into found, in order; returns how many.  A code point below\n\
len(table) is one if table holds its id there (int32; -1: none), any other\n\
if it is chars[k] (sorted int64), of id ids[k].  cps: uint32; ids: int64\n\
as many as chars; ends, found: int64 of at least len(cps).");

static PyObject *
single_matches(PyObject *Py_UNUSED(self), PyObject *args)
{
	enum { CPS, TABLE, CHARS, IDS, ENDS, FOUND, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"cps", sizeof(uint32_t)}, {"table", sizeof(int32_t)},
	                                        {"chars", sizeof(int64_t)}, {"ids", sizeof(int64_t)},
	                                        {"ends", sizeof(int64_t)}, {"found", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Py_ssize_t n, ntable, nchars, count = 0;

	if (take_buffers(args, v, specs, VIEWS, "y*y*y*y*w*w*:single_matches", &v[CPS], &v[TABLE], &v[CHARS], &v[IDS],
	                 &v[ENDS], &v[FOUND]) < 0)
		return NULL;
	n = v[CPS].len / (Py_ssize_t)sizeof(uint32_t);
	ntable = v[TABLE].len / (Py_ssize_t)sizeof(int32_t);
	nchars = v[CHARS].len / (Py_ssize_t)sizeof(int64_t);
	if (v[IDS].len != v[CHARS].len || v[ENDS].len != v[FOUND].len ||
	    v[ENDS].len / (Py_ssize_t)sizeof(int64_t) < n) {
		PyErr_SetString(PyExc_ValueError, "ids: as many as chars; ends and found: at least len(cps) each");
		goto done;
	}

	Py_BEGIN_ALLOW_THREADS
	{
		const uint32_t *c = (const uint32_t *)v[CPS].buf;
		const int32_t *table = (const int32_t *)v[TABLE].buf;
		const int64_t *chars = (const int64_t *)v[CHARS].buf, *ids = (const int64_t *)v[IDS].buf;
		int64_t *ends = (int64_t *)v[ENDS].buf, *found = (int64_t *)v[FOUND].buf;
		Py_ssize_t i;
		for (i = 0; i < n; i++) {
			const uint32_t cp = c[i];
			int64_t id = -1;
			if ((Py_ssize_t)cp < ntable) {
				id = table[cp];
			} else if (nchars > 0) {
				/* The last item not above cp, by halving a window of the
				 * size that remains (no branch on the comparison). */
				const int64_t *at = chars;
				Py_ssize_t size;
				for (size = nchars; size > 1; size -= size / 2)
					at = at[size / 2] <= (int64_t)cp ? at + size / 2 : at;
				if (*at == (int64_t)cp)
					id = ids[at - chars];
			}
			if (id >= 0) {
				ends[count] = i;
				found[count] = id;
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
 * below nids, 1 if it must be in the trie (set to 2 once found).  One pass,
 * parents before children: a node's fail link must go to an earlier node
 * (one of a lower level comes earlier), whose depth and links are then
 * known and checked. */
static const char *
check_nodes(const Trie *t, int64_t longest, const int64_t *lengths, uint8_t *wanted, int64_t nids, int32_t *depth,
            int64_t *words)
{
	const uint32_t n = t->n;
	uint32_t u, v;
	*words = 0;
	if (FIELD(t, 0, FIRST) != 1 || FIELD(t, n, FIRST) != n || FIELD(t, n, FAIL) || FIELD(t, n, SUFFIX) ||
	    FIELD(t, n, VALUE))
		return "not a tree";
	if (FIELD(t, 0, FAIL) != 0 || FIELD(t, 0, SUFFIX) != 0 || t->nodes[VALUE] != -1 || t->letter[0] != 0)
		return "bad root";
	depth[0] = 0;
	for (u = 0; u < n; u++) {
		/* One tree, level by level: a node's children follow all earlier nodes'. */
		uint32_t lo = FIELD(t, u, FIRST), hi = FIELD(t, u + 1, FIRST);
		if (lo < u + 1 || hi < lo || hi > n)
			return "not a tree";
		for (v = lo; v < hi; v++) {
			uint32_t f = FIELD(t, v, FAIL);
			int32_t id = t->nodes[(size_t)v * FIELDS + VALUE];
			if (t->letter[v] > MAX_LETTER || (v > lo && t->letter[v] <= t->letter[v - 1]))
				return "letters out of order";
			depth[v] = depth[u] + 1;
			if (depth[v] > longest)
				return "deeper than the longest word";
			/* A fail link to a shallower node, so that following them ends
			 * at the root; the suffix link the fail links make. */
			if (f >= v || depth[f] >= depth[v])
				return "bad fail link";
			if (FIELD(t, v, SUFFIX) != (t->nodes[(size_t)f * FIELDS + VALUE] >= 0 ? f : FIELD(t, f, SUFFIX)))
				return "bad suffix link";
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
	}
	return NULL;
}

PyDoc_STRVAR(trie_check_doc,
"trie_check(nodes, letter, longest, lengths, ids) -> int\n\
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
	enum { NODES, LETTER, LENGTHS, IDS, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"nodes", sizeof(int32_t)}, {"letter", sizeof(uint32_t)},
	                                        {"lengths", sizeof(int64_t)}, {"ids", sizeof(int64_t)}};
	Py_buffer v[VIEWS];
	PyObject *result = NULL;
	Trie t;
	long long longest;
	int64_t nids, nwanted, k, words = 0;
	uint8_t *wanted = NULL;
	int32_t *depth = NULL;
	const char *error = NULL;

	if (take_buffers(args, v, specs, VIEWS, "y*y*Ly*y*:trie_check", &v[NODES], &v[LETTER], &longest, &v[LENGTHS],
	                 &v[IDS]) < 0)
		return NULL;
	if (take_trie(&t, &v[NODES], &v[LETTER], NULL) < 0)
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
