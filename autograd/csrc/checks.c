/* The errors for what Python code may have changed under the core (core.h has the checks):
 * a Tensor never initialised, a version counter replaced, the core not configured. Each is a
 * Python exception; none of these states may crash the interpreter. */
#include "core.h"

int
raise_not_ready(void)
{
    PyErr_SetString(PyExc_RuntimeError,
                    "autograd._ccore: configure() was not called with every setting (importing "
                    "autograd does it)");
    return -1;
}

int
raise_bad_version_box(PyObject *box, const char *op)
{
    if (box == NULL)
        PyErr_Format(PyExc_AttributeError, "%s: a tensor has no version counter (_version)",
                     op);
    else if (PyList_Check(box))
        PyErr_Format(PyExc_IndexError,
                     "%s: a tensor's version counter (_version) is an empty list; it must hold "
                     "the count, as [0]", op);
    else
        PyErr_Format(PyExc_TypeError,
                     "%s: a tensor's version counter (_version) must be a one-element list, "
                     "got %s", op, Py_TYPE(box)->tp_name);
    return -1;
}

int
raise_uninitialised(PyObject *t, Py_ssize_t index, const char *op)
{
    PyErr_Format(PyExc_AttributeError,
                 "%s: input %zd is a %s that was never initialised (no array or device): a "
                 "Tensor subclass's __init__ must call super().__init__(data, ...)",
                 op, index, Py_TYPE(t)->tp_name);
    return -1;
}
