/* Hash-table lookup of int64 keys, for segcli.encode.KeyIndex.
 *
 * Private helper: encode.py builds the open-addressing table (Fibonacci
 * hashing, linear probing, -1 marks an empty slot) and does the policy; this
 * file only runs the probe loop, one pass per key, where numpy needs several
 * passes over the whole array.  Its numpy twin is KeyIndex.find (tests check
 * that they agree).  Every buffer size is checked here, because memory safety
 * must not depend on the caller.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define EMPTY (-1)
#define MULTIPLIER 0x9E3779B97F4A7C15ULL

static int
check_buffer(const Py_buffer *buf, const char *what)
{
	if (buf->itemsize != (Py_ssize_t)sizeof(int64_t) || buf->len % (Py_ssize_t)sizeof(int64_t) != 0) {
		PyErr_Format(PyExc_ValueError, "%s: expected 8-byte items, got itemsize %zd",
		             what, buf->itemsize);
		return -1;
	}
	if ((uintptr_t)buf->buf % sizeof(int64_t) != 0) {
		PyErr_Format(PyExc_ValueError, "%s: buffer is not aligned", what);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(find_doc,
"find(table_keys, table_values, keys, missing, out) -> None\n\
\n\
For each key, the value stored beside it in the table, or `missing`.\n\
table_keys, table_values: int64 arrays of the same power-of-two length\n\
(empty slots hold -1); keys, out: int64 arrays of the same length.");

static PyObject *
find(PyObject *self, PyObject *args)
{
	Py_buffer tkeys, tvalues, keys, out;
	long long missing;
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits = 0, raced = 0;

	if (!PyArg_ParseTuple(args, "y*y*y*Lw*:find", &tkeys, &tvalues, &keys, &missing, &out))
		return NULL;
	if (check_buffer(&tkeys, "table_keys") < 0 || check_buffer(&tvalues, "table_values") < 0 ||
	    check_buffer(&keys, "keys") < 0 || check_buffer(&out, "out") < 0)
		goto done;
	size = tkeys.len / (Py_ssize_t)sizeof(int64_t);
	n = keys.len / (Py_ssize_t)sizeof(int64_t);
	if (tvalues.len != tkeys.len) {
		PyErr_SetString(PyExc_ValueError, "table_keys and table_values differ in length");
		goto done;
	}
	if (size < 2 || (size & (size - 1)) != 0) {
		PyErr_SetString(PyExc_ValueError, "table: length is not a power of two >= 2");
		goto done;
	}
	if (out.len != keys.len) {
		PyErr_SetString(PyExc_ValueError, "out and keys differ in length");
		goto done;
	}
	while (((Py_ssize_t)1 << bits) < size)
		bits++;

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *tk = (const int64_t *)tkeys.buf, *tv = (const int64_t *)tvalues.buf;
		const int64_t *k = (const int64_t *)keys.buf;
		int64_t *o = (int64_t *)out.buf;
		const uint64_t mask = (uint64_t)size - 1;
		for (i = 0; i < n; i++) {
			uint64_t slot = ((uint64_t)k[i] * MULTIPLIER) >> (64 - bits);
			Py_ssize_t probes = 0;
			int64_t value = (int64_t)missing;
			while (tk[slot] != EMPTY) {
				if (tk[slot] == k[i]) {
					value = tv[slot];
					break;
				}
				slot = (slot + 1) & mask;
				/* A full table (only if another thread rewrote it) must not loop for ever. */
				if (++probes == size) {
					raced = 1;
					break;
				}
			}
			o[i] = value;
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
	PyBuffer_Release(&tkeys);
	PyBuffer_Release(&tvalues);
	PyBuffer_Release(&keys);
	PyBuffer_Release(&out);
	return result;
}

PyDoc_STRVAR(build_doc,
"build(keys, values, table_keys, table_values) -> None\n\
\n\
Fills an empty table (every slot -1) with keys[i] -> values[i]; a key\n\
given more than once gets the bitwise OR of its values.  keys:\n\
non-negative int64; values: int64, as many; table_keys, table_values:\n\
writable int64 arrays of one power-of-two length above len(keys).");

static PyObject *
build(PyObject *self, PyObject *args)
{
	Py_buffer keys, values, tkeys, tvalues;
	PyObject *result = NULL;
	Py_ssize_t size, n, i;
	int bits = 0, bad = 0;

	if (!PyArg_ParseTuple(args, "y*y*w*w*:build", &keys, &values, &tkeys, &tvalues))
		return NULL;
	if (check_buffer(&keys, "keys") < 0 || check_buffer(&values, "values") < 0 ||
	    check_buffer(&tkeys, "table_keys") < 0 || check_buffer(&tvalues, "table_values") < 0)
		goto done;
	if (values.len != keys.len) {
		PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
		goto done;
	}
	size = tkeys.len / (Py_ssize_t)sizeof(int64_t);
	n = keys.len / (Py_ssize_t)sizeof(int64_t);
	if (tvalues.len != tkeys.len) {
		PyErr_SetString(PyExc_ValueError, "table_keys and table_values differ in length");
		goto done;
	}
	if (size < 2 || (size & (size - 1)) != 0 || n >= size) {
		PyErr_SetString(PyExc_ValueError, "table: length is not a power of two above len(keys)");
		goto done;
	}
	while (((Py_ssize_t)1 << bits) < size)
		bits++;

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *k = (const int64_t *)keys.buf, *v = (const int64_t *)values.buf;
		int64_t *tk = (int64_t *)tkeys.buf, *tv = (int64_t *)tvalues.buf;
		const uint64_t mask = (uint64_t)size - 1;
		for (i = 0; i < n && !bad; i++) {
			uint64_t slot = ((uint64_t)k[i] * MULTIPLIER) >> (64 - bits);
			Py_ssize_t probes = 0;
			if (k[i] < 0) {
				bad = 1;
				break;
			}
			while (tk[slot] != EMPTY && tk[slot] != k[i]) {
				if (++probes == size) {  /* not an empty table */
					bad = 1;
					break;
				}
				slot = (slot + 1) & mask;
			}
			if (bad)
				break;
			if (tk[slot] == k[i]) {
				tv[slot] |= v[i];
			} else {
				tk[slot] = k[i];
				tv[slot] = v[i];
			}
		}
	}
	Py_END_ALLOW_THREADS

	if (bad) {
		PyErr_SetString(PyExc_ValueError, "keys must be non-negative, into an empty table");
		goto done;
	}
	Py_INCREF(Py_None);
	result = Py_None;
done:
	PyBuffer_Release(&keys);
	PyBuffer_Release(&values);
	PyBuffer_Release(&tkeys);
	PyBuffer_Release(&tvalues);
	return result;
}

static PyMethodDef module_methods[] = {
	{"build", (PyCFunction)build, METH_VARARGS, build_doc},
	{"find", (PyCFunction)find, METH_VARARGS, find_doc},
	{NULL, NULL, 0, NULL}  /* Sentinel */
};

static PyModuleDef_Slot module_slots[] = {
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
	.m_name = "segcli._lookup",
	.m_doc = "Private hash-table lookup loop for segcli.encode.",
	.m_size = 0,
	.m_methods = module_methods,
	.m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__lookup(void)
{
	return PyModuleDef_Init(&module_definition);
}
