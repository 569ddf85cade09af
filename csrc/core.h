/* What every file of segcli's private C core (the extension segcli._core)
 * shares: taking and checking an entry point's buffer arguments, the tag ids,
 * the word cut of decode.c's words and writer.c's render_text, and the method
 * tables module.c gathers.  No twin of its own: each stage file names its
 * twin in tests/.
 *
 * Every buffer size and bound is checked in C too, because memory safety must
 * not depend on the caller: any table may come from a memory-mapped cache
 * file (segcli.tablecache), and no content of one may make a loop read or
 * write outside a buffer.
 */
#ifndef SEGCLI_CORE_H
#define SEGCLI_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Symbols shared between the files stay out of the extension's exports. */
#if defined(__GNUC__) || defined(__clang__)
#define HIDDEN __attribute__((visibility("hidden")))
#else
#define HIDDEN
#endif

/* The tag ids; segcli.decode owns them, module.c exports these for tests to
 * check that the two agree. */
enum { S = 0, B = 1, M = 2, E = 3, NTAGS = 4 };

static inline int
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

/* A buffer argument's name in errors and the size of its items in bytes;
 * 0: any (bytes copied as they are), or checked by the entry point itself. */
typedef struct {
	const char *name;
	Py_ssize_t itemsize;
} BufferSpec;

/* Every entry point's epilogue: releases the views take_buffers took and
 * returns `result` (NULL: an exception is set). */
static inline PyObject *
release_buffers(Py_buffer *views, int count, PyObject *result)
{
	int i;
	for (i = 0; i < count; i++)
		PyBuffer_Release(&views[i]);
	return result;
}

/* A new reference to None: the result of an entry point that writes into
 * its buffers. */
static inline PyObject *
none(void)
{
	Py_INCREF(Py_None);
	return Py_None;
}

/* None, or NULL with a ValueError of `error` set where the loop `failed`. */
static inline PyObject *
none_unless(int failed, const char *error)
{
	if (failed) {
		PyErr_SetString(PyExc_ValueError, error);
		return NULL;
	}
	return none();
}

/* Every entry point's prologue: parses args as PyArg_ParseTuple(args, format,
 * ...) does, where the buffer arguments (y*, w*) among the pointers that
 * follow are views[0], views[1], ... in order, then checks views[i] against
 * specs[i].  Returns 0, the caller then releasing the views with
 * release_buffers; or -1 with an exception set and nothing held. */
static inline int
take_buffers(PyObject *args, Py_buffer *views, const BufferSpec *specs, int count, const char *format, ...)
{
	va_list pointers;
	int parsed, i;

	va_start(pointers, format);
	parsed = PyArg_VaParse(args, format, pointers);
	va_end(pointers);
	if (!parsed)
		return -1;
	for (i = 0; i < count; i++) {
		if (specs[i].itemsize && check_buffer(&views[i], specs[i].itemsize, specs[i].name) < 0) {
			release_buffers(views, count, NULL);
			return -1;
		}
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

/* A method table's entry: every entry point takes positional arguments and
 * has a docstring named after it. */
#define METHOD(name) {#name, (PyCFunction)name, METH_VARARGS, name##_doc}
#define END_OF_METHODS {NULL, NULL, 0, NULL}

/* Each stage file's entry points, named after the segcli module that calls
 * them; module.c adds them all to segcli._core. */
HIDDEN extern PyMethodDef encode_methods[];
HIDDEN extern PyMethodDef decode_methods[];
HIDDEN extern PyMethodDef atoms_methods[];
HIDDEN extern PyMethodDef score_methods[];
HIDDEN extern PyMethodDef writer_methods[];
HIDDEN extern PyMethodDef match_methods[];
HIDDEN extern PyMethodDef tags_methods[];

#endif
