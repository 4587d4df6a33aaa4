/* autograd._ccore: the C twin of kedja's per-op machinery (this file: the module).
 *
 * What runs once per recorded op lives here when this extension is built: the Tensor and
 * graph-node base types (their fields as C struct members), `Function.apply` with its input
 * scan and graph linking, `saved_tensors`, the arithmetic operators of Tensor, the
 * thread-local grad mode, and the first-order backward walk. The Python reference for each
 * piece sits beside it (tensor_base.py, function_base.py, grad_mode.py, engine.py) and is what
 * runs without a compiler or with KEDJA_PURE_PYTHON=1; both pass the same test suite. Op
 * rules (forward and backward) stay in Python, and so do all rare paths (hooks, capture,
 * create_graph, device scopes, error messages): these files call back into them.
 *
 * No Python-reachable input may crash the interpreter: the fields are writable from Python,
 * so every field C indexes is checked where C reads it (a compare or two), and a Tensor whose
 * __init__ never ran is refused (tests/autograd/test_core_fuzz.py calls every entry point
 * with random objects). Files: core.h (what they share), checks.c (the errors for fields
 * Python code changed), grad_state.c, tensor_base.c, function_base.c, apply.c, walk.c,
 * module.c (this one: configure, import).
 *
 * No NumPy or CuPy headers: arrays are reached through the Python protocols only (`+`,
 * `.shape`, `.dtype`), so the same code serves every backend.
 */
#include "core.h"

CoreRefs K = {.next_key = -1};

/* What a setting must be: any object (a sentinel), a callable (or None), an op class, a
 * tuple. */
enum { ANY, CALLABLE, CALLABLE_OR_NONE, OP, TUPLE };

typedef struct {
    const char *name;
    PyObject **slot;
    int kind;
    int required;  /* the core reads it without a check: it runs only once this is set */
} Setting;

/* Whether every required setting is set. */
static int
all_set(const Setting *settings)
{
    const Setting *s;
    for (s = settings; s->name != NULL; s++) {
        if (s->required && *s->slot == NULL)
            return 0;
    }
    return 1;
}

static PyObject *
core_configure(PyObject *module, PyObject *args, PyObject *kwargs)
{
    Setting settings[] = {
        {"Tensor", (PyObject **)&K.tensor_type, ANY, 1}, {"FREED", &K.freed, ANY, 1},
        {"PLAIN", &K.plain, ANY, 1}, {"OUTPUT", &K.output, ANY, 1},
        {"default_backend", &K.default_backend, CALLABLE, 1},
        {"reraise", &K.reraise, CALLABLE, 1}, {"device_mismatch", &K.device_mismatch, CALLABLE, 1},
        {"scoped_forward", &K.scoped_forward, CALLABLE, 1}, {"lift", &K.lift, CALLABLE, 1},
        {"Add", &K.op_add, OP, 1}, {"Sub", &K.op_sub, OP, 1}, {"Mul", &K.op_mul, OP, 1},
        {"Div", &K.op_div, OP, 1}, {"Neg", &K.op_neg, OP, 1},
        {"observe", &K.observe, CALLABLE, 1}, {"tensor_rule", &K.tensor_rule, CALLABLE, 1},
        {"fit_raw", &K.fit_raw, CALLABLE, 1}, {"grad_error", &K.grad_error, CALLABLE, 1},
        {"promote", &K.promote, CALLABLE, 1}, {"floating", &K.floating, TUPLE, 1},
        /* optional: apply.c checks these where it uses them */
        {"anomaly_record", &K.anomaly_record, CALLABLE_OR_NONE, 0},
        {"complex_dtypes", &K.complex_dtypes, TUPLE, 0},
        {"refuse_complex", &K.refuse_complex, CALLABLE, 0}, {NULL, NULL, ANY, 0},
    };
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (kwargs == NULL || PyTuple_GET_SIZE(args) != 0) {
        PyErr_SetString(PyExc_TypeError, "configure takes keyword arguments only");
        return NULL;
    }
    while (PyDict_Next(kwargs, &pos, &key, &value)) {
        Setting *s;
        const char *name = PyUnicode_AsUTF8(key);
        if (name == NULL)
            return NULL;
        for (s = settings; s->name != NULL; s++) {
            if (strcmp(s->name, name) == 0)
                break;
        }
        if (s->name == NULL) {
            PyErr_Format(PyExc_TypeError, "configure: unknown setting %R", key);
            return NULL;
        }
        if (s->slot == (PyObject **)&K.tensor_type &&
            !(PyType_Check(value) && PyType_IsSubtype((PyTypeObject *)value, &TensorBaseType))) {
            PyErr_SetString(PyExc_TypeError, "configure: Tensor must subclass TensorBase");
            return NULL;
        }
        /* The core allocates op classes as FunctionBase objects and calls the helpers. */
        if (s->kind == OP && !(PyType_Check(value) &&
                               PyType_IsSubtype((PyTypeObject *)value, &FunctionBaseType))) {
            PyErr_Format(PyExc_TypeError, "configure: %s must be a Function class", s->name);
            return NULL;
        }
        if ((s->kind == CALLABLE || (s->kind == CALLABLE_OR_NONE && value != Py_None)) &&
            !PyCallable_Check(value)) {
            PyErr_Format(PyExc_TypeError, "configure: %s must be callable", s->name);
            return NULL;
        }
        if (s->kind == TUPLE && !PyTuple_Check(value)) {
            PyErr_Format(PyExc_TypeError, "configure: %s must be a tuple", s->name);
            return NULL;
        }
        Py_XSETREF(*s->slot, Py_NewRef(value));
    }
    if (K.plain != NULL) {  /* the saved-source tuples of plain values and constants */
        Py_XSETREF(K.plain_source, PyTuple_Pack(3, K.plain, Py_None, K.zero));
        Py_XSETREF(K.constant_source, PyTuple_Pack(3, Py_None, Py_None, K.zero));
        if (K.plain_source == NULL || K.constant_source == NULL)
            return NULL;
    }
    K.ready = all_set(settings) && K.plain_source != NULL;
    Py_RETURN_NONE;
}

static PyObject *
core_next_key(PyObject *module, PyObject *unused)
{
    return PyLong_FromLongLong(K.next_key--);
}

static PyObject *
core_set_anomaly(PyObject *module, PyObject *flag)
{
    int truth = PyObject_IsTrue(flag);
    if (truth < 0)
        return NULL;
    anomaly_mode = truth;
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))core_configure, METH_VARARGS | METH_KEYWORDS,
     "Hands the core the Python classes, sentinels and slow-path helpers it calls."},
    {"walk", (PyCFunction)(void (*)(void))core_walk, METH_FASTCALL,
     "walk(roots, root_grads, retain) -> (leaves, pending, handed): a first-order backward."},
    {"next_key", core_next_key, METH_NOARGS, "The next creation number (counting down)."},
    {"set_anomaly", core_set_anomaly, METH_O,
     "Turns anomaly mode's stack recording in Function.apply on or off."},
    {NULL}
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "autograd._ccore",
    "The C core of kedja's autograd (see autograd/_native.py).", -1, core_methods,
};

static int
intern(PyObject **slot, const char *text)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__ccore(void)
{
    PyObject *m;
    if (PyType_Ready(&GradStateType) < 0 || PyType_Ready(&TensorBaseType) < 0 ||
        PyType_Ready(&FunctionBaseType) < 0)
        return NULL;
    if (intern(&K.s_forward, "forward") || intern(&K.s_backward, "backward") ||
        intern(&K.s_xp, "xp") || intern(&K.s_array_type, "array_type") ||
        intern(&K.s_asarray, "asarray") || intern(&K.s_shape, "shape") ||
        intern(&K.s_dtype, "dtype") || intern(&K.s_needs_device_scope, "needs_device_scope") ||
        intern(&K.s_is_view, "is_view") || intern(&K.s_raw_backward, "raw_backward") ||
        intern(&K.s_raise_modified, "_raise_modified") || intern(&K.s_name, "name"))
        return NULL;
    K.zero = PyLong_FromLong(0);
    K.needs_1 = PyTuple_Pack(1, Py_True);
    K.needs_tt = PyTuple_Pack(2, Py_True, Py_True);
    K.needs_tf = PyTuple_Pack(2, Py_True, Py_False);
    K.needs_ft = PyTuple_Pack(2, Py_False, Py_True);
    if (K.zero == NULL || K.needs_1 == NULL || K.needs_tt == NULL || K.needs_tf == NULL ||
        K.needs_ft == NULL)
        return NULL;
    m = PyModule_Create(&core_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "ABI", CORE_ABI) < 0 ||
        PyModule_AddStringConstant(m, "SOURCE_HASH", CORE_SOURCE_HASH) < 0 ||
        PyModule_AddObjectRef(m, "GradState", (PyObject *)&GradStateType) < 0 ||
        PyModule_AddObjectRef(m, "TensorBase", (PyObject *)&TensorBaseType) < 0 ||
        PyModule_AddObjectRef(m, "FunctionBase", (PyObject *)&FunctionBaseType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
