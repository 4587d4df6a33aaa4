/* The thread-local grad mode: grad_mode.py's _State in C (recording on/off, raw rules, captures). */
#include "core.h"

THREAD_LOCAL int tls_disabled;       /* 0: recording on, every new thread's default */
THREAD_LOCAL PyObject *tls_raw;      /* the backend raw rules run on, or NULL */
THREAD_LOCAL PyObject *tls_captured; /* autograd.grad's capture dict, or NULL */

void
set_slot(PyObject **slot, PyObject *value)
{
    PyObject *old = *slot;
    if (value == Py_None)
        value = NULL;
    Py_XINCREF(value);
    *slot = value;
    Py_XDECREF(old);
}

typedef struct {
    PyObject_HEAD
} GradStateObject;

static PyObject *
state_get_enabled(PyObject *self, void *closure)
{
    return PyBool_FromLong(!tls_disabled);
}

static int
state_set_enabled(PyObject *self, PyObject *value, void *closure)
{
    int truth;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete grad mode's enabled");
        return -1;
    }
    truth = PyObject_IsTrue(value);
    if (truth < 0)
        return -1;
    tls_disabled = !truth;
    return 0;
}

static PyObject *
state_get_raw(PyObject *self, void *closure)
{
    return Py_NewRef(OR_NONE(tls_raw));
}

static int
state_set_raw(PyObject *self, PyObject *value, void *closure)
{
    set_slot(&tls_raw, value == NULL ? Py_None : value);
    return 0;
}

static PyObject *
state_get_captured(PyObject *self, void *closure)
{
    return Py_NewRef(OR_NONE(tls_captured));
}

static int
state_set_captured(PyObject *self, PyObject *value, void *closure)
{
    set_slot(&tls_captured, value == NULL ? Py_None : value);
    return 0;
}

static PyGetSetDef state_getset[] = {
    {"enabled", state_get_enabled, state_set_enabled, "whether ops are recorded", NULL},
    {"raw_backend", state_get_raw, state_set_raw, "the backend of a running raw rule", NULL},
    {"captured", state_get_captured, state_set_captured, "autograd.grad's captures", NULL},
    {NULL}
};

PyTypeObject GradStateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autograd._ccore.GradState",
    .tp_basicsize = sizeof(GradStateObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The thread-local grad mode (recording on/off, raw rules, captures).",
    .tp_getset = state_getset,
    .tp_new = PyType_GenericNew,
};
