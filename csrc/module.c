/* segcli._core, the private C core: the module itself, its functions
 * gathered from the stage files (one a segcli module that calls them) and
 * the tag ids.  No loop of its own, so no twin; tests/test_decode.py holds
 * the functions to segcli/_core.pyi and the tag ids to segcli.decode's.
 */
#include "core.h"

PyDoc_STRVAR(module_doc,
"segcli's private C loops: the per-batch loops that numpy cannot do in one\n\
pass, over numpy buffers with the GIL released (words excepted).  The\n\
segcli modules do the validation and policy and call them:\n\
\n\
- encode: hash tables (build, find), a batch's whitespace, lookup form and\n\
  ids (classify), its n-grams' lookups (grams) and word-match features\n\
  (word_matches);\n\
- atoms: the runs atoms can lie in (atom_runs) and atoms ruled out of the\n\
  tag scores (constrain);\n\
- score: sequences into the scorer's rows and scores back (pack_rows,\n\
  unpack_rows);\n\
- decode: constrained Viterbi (viterbi) and the words as str (words);\n\
- writer: the words as delimited UTF-8 output (render_text);\n\
- pos: each word's hashed features and its tag id from them (word_features, word_head);\n\
- trie: a user dictionary's words found in a batch (trie_walk,\n\
  single_matches) and its automaton's arrays checked (trie_check).");

static PyMethodDef *const stage_methods[] = {
	encode_methods, atoms_methods, score_methods, decode_methods, writer_methods, match_methods, tags_methods,
};

/* The functions, and the tag ids, exported so that tests can check that
 * segcli.decode agrees. */
static int
module_exec(PyObject *module)
{
	size_t i;
	for (i = 0; i < sizeof stage_methods / sizeof stage_methods[0]; i++)
		if (PyModule_AddFunctions(module, stage_methods[i]) < 0)
			return -1;
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
	.m_doc = module_doc,
	.m_size = 0,
	.m_methods = NULL,
	.m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
	return PyModuleDef_Init(&module_definition);
}
