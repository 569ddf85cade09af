/* The loops of segcli/score.py: sequences laid into the scorer's
 * overlapping rows (pack_rows), and each position's scores taken back from
 * its own row (unpack_rows).
 *
 * Twin: tests/reference_rows.py.
 */
#include "core.h"

/* Checks the shared arguments of pack_rows and unpack_rows (stream_at's
 * item size is checked as it is taken); returns the row count, or -1 with an
 * exception set. */
static Py_ssize_t
rows_layout(const Py_buffer *flat, Py_ssize_t item, const Py_buffer *stream_at, Py_ssize_t margin,
            Py_ssize_t core, const Py_buffer *rows, Py_ssize_t *n)
{
	Py_ssize_t width = core + 2 * margin, row_bytes;
	/* values and rows are copied as bytes: any item type will do. */
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
	enum { SOURCE, STREAM_AT, DESTINATION, VIEWS };
	static const BufferSpec specs[VIEWS] = {{"source", 0}, {"stream_at", sizeof(int64_t)}, {"destination", 0}};
	Py_buffer v[VIEWS];
	Py_buffer *values, *rows;
	Py_ssize_t item, margin, core, nrows, n;
	PyObject *result = NULL;
	int bad = 0;

	if (take_buffers(args, v, specs, VIEWS, format, &v[SOURCE], &item, &v[STREAM_AT], &margin, &core,
	                 &v[DESTINATION]) < 0)
		return NULL;
	values = packing ? &v[SOURCE] : &v[DESTINATION];
	rows = packing ? &v[DESTINATION] : &v[SOURCE];
	if ((nrows = rows_layout(values, item, &v[STREAM_AT], margin, core, rows, &n)) < 0)
		goto done;

	Py_BEGIN_ALLOW_THREADS
	{
		const int64_t *at = (const int64_t *)v[STREAM_AT].buf;
		uint8_t *val = (uint8_t *)values->buf, *o = (uint8_t *)rows->buf;
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
				memcpy(val + j * item, o + ((p / core) * width + margin + p % core) * item, (size_t)item);
				continue;
			}
			/* Into every row that holds p: in padded coordinates (margin
			 * blanks first) row r spans [r * core, r * core + width). */
			p += margin;
			r = p >= width ? (p - width) / core + 1 : 0;
			last = p / core < nrows - 1 ? p / core : nrows - 1;
			for (; r <= last; r++)
				memcpy(o + (r * width + (p - r * core)) * item, val + j * item, (size_t)item);
		}
	}
	Py_END_ALLOW_THREADS

	result = none_unless(bad, "stream_at: a position outside the rows");
done:
	return release_buffers(v, VIEWS, result);
}

PyDoc_STRVAR(pack_rows_doc,
"pack_rows(values, item_bytes, stream_at, margin, core, rows) -> None\n\
\n\
Lays values (one item of item_bytes per position) into overlapping rows:\n\
item j sits at stream position stream_at[j]; row r holds the stream's\n\
[r * core - margin, r * core + core + margin); everything else is zeros.");

static PyObject *
pack_rows(PyObject *Py_UNUSED(self), PyObject *args)
{
	return move_rows(args, 1, "y*ny*nnw*:pack_rows");
}

PyDoc_STRVAR(unpack_rows_doc,
"unpack_rows(rows, item_bytes, stream_at, margin, core, values) -> None\n\
\n\
The reverse of pack_rows, from each position's own row: values[j] =\n\
rows[p // core, margin + p % core] for p = stream_at[j].");

static PyObject *
unpack_rows(PyObject *Py_UNUSED(self), PyObject *args)
{
	return move_rows(args, 0, "y*ny*nnw*:unpack_rows");
}

HIDDEN PyMethodDef score_methods[] = {
	METHOD(pack_rows),
	METHOD(unpack_rows),
	END_OF_METHODS
};
