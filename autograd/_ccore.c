/* autograd._ccore: the C twin of kedja's per-op machinery.
 *
 * What runs once per recorded op lives here when this extension is built: the Tensor and
 * graph-node base types (their fields as C struct members), `Function.apply` with its input
 * scan and graph linking, `saved_tensors`, the arithmetic operators of Tensor, the
 * thread-local grad mode, and the first-order backward walk. The Python reference for each
 * piece sits beside it (tensor_base.py, function_base.py, grad_mode.py, engine.py) and is what
 * runs without a compiler or with KEDJA_PURE_PYTHON=1; both pass the same test suite. Op
 * rules (forward and backward) stay in Python, and so do all rare paths (hooks, capture,
 * create_graph, device scopes, error messages): this file calls back into them.
 *
 * No NumPy or CuPy headers: arrays are reached through the Python protocols only (`+`,
 * `.shape`, `.dtype`), so the same code serves every backend.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif

/* Bumped whenever the Python side's expectations of this module change (see _native.py). */
#define CORE_ABI 1
/* setup.py passes the sha256 prefix of this file, so that a stale build is recognised. */
#ifndef CORE_SOURCE_HASH
#define CORE_SOURCE_HASH "unknown"
#endif

#define IS_NONE(o) ((o) == NULL || (o) == Py_None)
#define OR_NONE(o) ((o) == NULL ? Py_None : (o))

/* ---- objects handed over by `configure` (Python classes, sentinels, slow-path helpers) ---- */
static PyTypeObject *tensor_type;        /* autograd.tensor.Tensor */
static PyObject *freed, *plain, *output;  /* function.py's sentinels */
static PyObject *default_backend;        /* () -> Backend */
static PyObject *reraise;                /* (cls, inputs, error): raises with the op's context */
static PyObject *device_mismatch;        /* (cls, inputs): raises */
static PyObject *scoped_forward;         /* (fn, datas): forward inside backend.device_scope() */
static PyObject *lift;                   /* (other, like): an operand for an op with `like` */
static PyObject *op_add, *op_sub, *op_mul, *op_div, *op_neg;
static PyObject *observe;                /* (node, g, raw, create, captured, handed) */
static PyObject *tensor_rule;            /* (node, g): a Tensor rule's gradients as arrays */
static PyObject *fit_raw;                /* (gx, shape, dtype, node) */

static PyObject *s_forward, *s_backward, *s_xp, *s_array_type, *s_asarray, *s_shape, *s_dtype;
static PyObject *s_needs_device_scope, *s_is_view, *s_raw_backward, *s_raise_modified, *s_name;
static PyObject *needs_1, *needs_tt, *needs_tf, *needs_ft; /* shared needs_input_grad tuples */
static PyObject *plain_source, *constant_source;            /* (_PLAIN, None, 0), (None, None, 0) */
static PyObject *zero;

/* Creation numbers, counting down: a consumer always has a lower key than its inputs'
 * producers, so the walk's min-heap runs consumers first. */
static long long next_key = -1;

/* ---- grad mode: one flag and two slots per thread (grad_mode.py's _State, in C) ---------- */
static THREAD_LOCAL int tls_disabled;       /* 0: recording on, every new thread's default */
static THREAD_LOCAL PyObject *tls_raw;      /* the backend raw rules run on, or NULL */
static THREAD_LOCAL PyObject *tls_captured; /* autograd.grad's capture dict, or NULL */

static void
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

static PyTypeObject GradStateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autograd._ccore.GradState",
    .tp_basicsize = sizeof(GradStateObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The thread-local grad mode (recording on/off, raw rules, captures).",
    .tp_getset = state_getset,
    .tp_new = PyType_GenericNew,
};

/* ---- TensorBase ----------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    PyObject *data;
    PyObject *grad;
    PyObject *grad_fn;
    PyObject *backend;
    PyObject *version;  /* a one-element list shared by views: [times modified in place] */
    PyObject *hooks;
    PyObject *weakreflist;
    char requires_grad;
} TensorObject;

static PyTypeObject TensorBaseType;
#define TENSOR_CHECK(o) PyObject_TypeCheck((o), &TensorBaseType)

static int
tensor_traverse(TensorObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->data);
    Py_VISIT(self->grad);
    Py_VISIT(self->grad_fn);
    Py_VISIT(self->backend);
    Py_VISIT(self->version);
    Py_VISIT(self->hooks);
    return 0;
}

static int
tensor_clear(TensorObject *self)
{
    Py_CLEAR(self->data);
    Py_CLEAR(self->grad);
    Py_CLEAR(self->grad_fn);
    Py_CLEAR(self->backend);
    Py_CLEAR(self->version);
    Py_CLEAR(self->hooks);
    return 0;
}

static void
tensor_dealloc(TensorObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    tensor_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
new_version_box(void)
{
    PyObject *box = PyList_New(1);
    if (box != NULL)
        PyList_SET_ITEM(box, 0, Py_NewRef(zero));
    return box;
}

/* A Tensor of `type` wrapping `data` on `backend`, with `version` (NULL: a fresh counter). */
static PyObject *
make_tensor(PyTypeObject *type, PyObject *data, PyObject *backend, PyObject *version)
{
    TensorObject *t = (TensorObject *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->data = Py_NewRef(data);
    t->backend = Py_NewRef(backend);
    t->version = version != NULL ? Py_NewRef(version) : new_version_box();
    if (t->version == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

static PyObject *
tensor_make(PyObject *cls, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "Tensor._make(data, backend) takes 2 arguments");
        return NULL;
    }
    return make_tensor((PyTypeObject *)cls, args[0], args[1], NULL);
}

static PyObject *
tensor_get_requires_grad(TensorObject *self, void *closure)
{
    return PyBool_FromLong(self->requires_grad);
}

static int
tensor_set_requires_grad(TensorObject *self, PyObject *value, void *closure)
{
    int truth;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete requires_grad");
        return -1;
    }
    truth = PyObject_IsTrue(value);
    if (truth < 0)
        return -1;
    self->requires_grad = (char)truth;
    return 0;
}

static PyMemberDef tensor_members[] = {
    {"data", T_OBJECT_EX, offsetof(TensorObject, data), 0, "the backend array"},
    {"grad", T_OBJECT, offsetof(TensorObject, grad), 0, "the accumulated gradient or None"},
    {"grad_fn", T_OBJECT, offsetof(TensorObject, grad_fn), 0, "the op that produced it"},
    {"_backend", T_OBJECT_EX, offsetof(TensorObject, backend), 0, NULL},
    {"_version", T_OBJECT_EX, offsetof(TensorObject, version), 0, NULL},
    {"_hooks", T_OBJECT, offsetof(TensorObject, hooks), 0, NULL},
    {NULL}
};

static PyGetSetDef tensor_getset[] = {
    {"requires_grad", (getter)tensor_get_requires_grad, (setter)tensor_set_requires_grad,
     "whether backward accumulates a gradient for it", NULL},
    {NULL}
};

static PyObject *apply_op(PyTypeObject *cls, PyObject *const *args, Py_ssize_t n,
                          PyObject *kwnames);

/* `a op b` for Tensor operators: Tensors and Python numbers go in as they are, anything else
 * through `_lift` (arrays become constant Tensors on the tensor's backend). */
static PyObject *
binary(PyObject *op, PyObject *a, PyObject *b)
{
    PyObject *pair[2] = {a, b};
    PyObject *lifted = NULL, *result;
    int a_is_tensor = TENSOR_CHECK(a);
    PyObject *other = a_is_tensor ? b : a;
    if (op == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "autograd._ccore: configure() was not called");
        return NULL;
    }
    if (!(PyFloat_Check(other) || PyLong_Check(other) || TENSOR_CHECK(other))) {
        lifted = PyObject_CallFunctionObjArgs(lift, other, a_is_tensor ? a : b, NULL);
        if (lifted == NULL)
            return NULL;
        pair[a_is_tensor ? 1 : 0] = lifted;
    }
    result = apply_op((PyTypeObject *)op, pair, 2, NULL);
    Py_XDECREF(lifted);
    return result;
}

static PyObject *tensor_add(PyObject *a, PyObject *b) { return binary(op_add, a, b); }
static PyObject *tensor_sub(PyObject *a, PyObject *b) { return binary(op_sub, a, b); }
static PyObject *tensor_mul(PyObject *a, PyObject *b) { return binary(op_mul, a, b); }
static PyObject *tensor_div(PyObject *a, PyObject *b) { return binary(op_div, a, b); }

static PyObject *
tensor_neg(PyObject *a)
{
    return apply_op((PyTypeObject *)op_neg, &a, 1, NULL);
}

static PyNumberMethods tensor_as_number = {
    .nb_add = tensor_add,
    .nb_subtract = tensor_sub,
    .nb_multiply = tensor_mul,
    .nb_true_divide = tensor_div,
    .nb_negative = tensor_neg,
};

static PyMethodDef tensor_methods[] = {
    {"_make", (PyCFunction)(void (*)(void))tensor_make, METH_FASTCALL | METH_CLASS,
     "Wraps a backend array without checks (the fast path ops use)."},
    {NULL}
};

static PyTypeObject TensorBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autograd._ccore.TensorBase",
    .tp_basicsize = sizeof(TensorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Tensor's fields and operators (the C core; see autograd/tensor_base.py).",
    .tp_traverse = (traverseproc)tensor_traverse,
    .tp_clear = (inquiry)tensor_clear,
    .tp_dealloc = (destructor)tensor_dealloc,
    .tp_weaklistoffset = offsetof(TensorObject, weakreflist),
    .tp_as_number = &tensor_as_number,
    .tp_members = tensor_members,
    .tp_getset = tensor_getset,
    .tp_methods = tensor_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- FunctionBase --------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    PyObject *backend;
    PyObject *xp;
    PyObject *needs_input_grad;
    PyObject *next_edges;   /* list: producing node, leaf Tensor, or None per input */
    PyObject *input_meta;   /* list: (shape, dtype) or None per input */
    PyObject *saved;        /* what save_for_backward kept, then _FREED */
    PyObject *sources;      /* list of (edge or sentinel, version box or None, version seen) */
    PyObject *hooks;
    PyObject *retained;
    PyObject *output_backend;
    long long key;
    char observed;
    char recording;
} FunctionObject;

static PyTypeObject FunctionBaseType;
#define FUNCTION_CHECK(o) PyObject_TypeCheck((o), &FunctionBaseType)

static int
function_traverse(FunctionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->backend);
    Py_VISIT(self->xp);
    Py_VISIT(self->needs_input_grad);
    Py_VISIT(self->next_edges);
    Py_VISIT(self->input_meta);
    Py_VISIT(self->saved);
    Py_VISIT(self->sources);
    Py_VISIT(self->hooks);
    Py_VISIT(self->retained);
    Py_VISIT(self->output_backend);
    return 0;
}

static int
function_clear(FunctionObject *self)
{
    Py_CLEAR(self->backend);
    Py_CLEAR(self->xp);
    Py_CLEAR(self->needs_input_grad);
    Py_CLEAR(self->next_edges);
    Py_CLEAR(self->input_meta);
    Py_CLEAR(self->saved);
    Py_CLEAR(self->sources);
    Py_CLEAR(self->hooks);
    Py_CLEAR(self->retained);
    Py_CLEAR(self->output_backend);
    return 0;
}

static void
function_dealloc(FunctionObject *self)
{
    PyObject_GC_UnTrack(self);
    function_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A class attribute's truth (is_view, raw_backward), through the type's attribute cache. */
static int
class_flag(PyTypeObject *cls, PyObject *name)
{
    PyObject *value = _PyType_Lookup(cls, name);
    return value != NULL && value != Py_False && value != Py_None && PyObject_IsTrue(value) > 0;
}

/* fn.forward(*datas) */
static PyObject *
call_forward(PyObject *fn, PyObject *const *datas, Py_ssize_t n)
{
    PyObject *small[8];
    PyObject **stack = small;
    PyObject *y;
    Py_ssize_t i;
    if (n + 1 > 8) {
        stack = PyMem_Malloc((n + 1) * sizeof(PyObject *));
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = fn;
    for (i = 0; i < n; i++)
        stack[i + 1] = datas[i];
    y = PyObject_VectorcallMethod(s_forward, stack, n + 1, NULL);
    if (stack != small)
        PyMem_Free(stack);
    return y;
}

static PyObject *
tuple_of(PyObject *const *items, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    Py_ssize_t i;
    if (t == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(items[i]));
    return t;
}

/* (edge, box, box[0]) */
static PyObject *
version_source(PyObject *edge, PyObject *box)
{
    return PyTuple_Pack(3, edge, box, PyList_GET_ITEM(box, 0));
}

/* (shape, dtype) of an array */
static PyObject *
array_meta(PyObject *array)
{
    PyObject *shape = PyObject_GetAttr(array, s_shape), *dtype, *meta;
    if (shape == NULL)
        return NULL;
    dtype = PyObject_GetAttr(array, s_dtype);
    if (dtype == NULL) {
        Py_DECREF(shape);
        return NULL;
    }
    meta = PyTuple_Pack(2, shape, dtype);
    Py_DECREF(shape);
    Py_DECREF(dtype);
    return meta;
}

static int
is_plain_value(PyObject *o)
{
    return o == Py_None || Py_IS_TYPE(o, &PyLong_Type) || Py_IS_TYPE(o, &PyFloat_Type) ||
           Py_IS_TYPE(o, &PyBool_Type);
}

/* Connects `fn` to its inputs' nodes and resolves what `forward` saved (function_base.py's
 * `_link`, which documents each case). Returns 0, or -1 with an exception set. */
static int
link_node(FunctionObject *fn, PyObject *const *inputs, PyObject *const *datas, Py_ssize_t n,
     PyObject *y_raw, TensorObject *out)
{
    PyObject *edges = PyList_New(n), *meta = PyList_New(n), *needs = NULL;
    PyObject *saved_seq = NULL, *arrays = NULL, *sources = NULL;
    Py_ssize_t i, j, ns;
    if (edges == NULL || meta == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        PyObject *x = inputs[i];
        if (TENSOR_CHECK(x) && ((TensorObject *)x)->requires_grad) {
            PyObject *grad_fn = ((TensorObject *)x)->grad_fn;
            PyObject *m = array_meta(datas[i]);
            if (m == NULL)
                goto fail;
            PyList_SET_ITEM(edges, i, Py_NewRef(IS_NONE(grad_fn) ? x : grad_fn));
            PyList_SET_ITEM(meta, i, m);
        }
        else {
            PyList_SET_ITEM(edges, i, Py_NewRef(Py_None));
            PyList_SET_ITEM(meta, i, Py_NewRef(Py_None));
        }
    }
    if (n == 1) {
        needs = Py_NewRef(needs_1);
    }
    else if (n == 2) {
        int need_a = PyList_GET_ITEM(edges, 0) != Py_None;
        int need_b = PyList_GET_ITEM(edges, 1) != Py_None;
        needs = Py_NewRef(need_a ? (need_b ? needs_tt : needs_tf) : needs_ft);
    }
    else {
        needs = PyTuple_New(n);
        if (needs == NULL)
            goto fail;
        for (i = 0; i < n; i++)
            PyTuple_SET_ITEM(needs, i,
                             PyBool_FromLong(PyList_GET_ITEM(edges, i) != Py_None));
    }
    Py_XSETREF(fn->next_edges, edges);
    Py_XSETREF(fn->input_meta, meta);
    Py_XSETREF(fn->needs_input_grad, needs);
    edges = meta = NULL;
    fn->key = next_key--;
    Py_XSETREF(out->grad_fn, Py_NewRef((PyObject *)fn));
    out->requires_grad = 1;

    if (IS_NONE(fn->saved))
        return 0;
    saved_seq = PySequence_Fast(fn->saved, "save_for_backward: saved arrays must be a sequence");
    if (saved_seq == NULL)
        goto fail;
    ns = PySequence_Fast_GET_SIZE(saved_seq);
    {
        PyObject **saved = PySequence_Fast_ITEMS(saved_seq);
        PyObject *edge_list = fn->next_edges;
        if (ns == 1 && saved[0] == y_raw && out->data == y_raw) {
            /* Only the output saved (tanh, exp, sigmoid, relu). */
            PyObject *src = version_source(output, out->version);
            if (src == NULL)
                goto fail;
            sources = PyList_New(1);
            if (sources == NULL) {
                Py_DECREF(src);
                goto fail;
            }
            PyList_SET_ITEM(sources, 0, src);
            Py_XSETREF(fn->sources, sources);
            Py_DECREF(saved_seq);
            return 0;
        }
        if (n == 2 && ns == 2 && saved[0] == datas[0] && saved[1] == datas[1] &&
            datas[0] != inputs[0] && datas[1] != inputs[1]) {
            /* Both tensor inputs saved (most binary ops). */
            PyObject *sa = version_source(PyList_GET_ITEM(edge_list, 0),
                                          ((TensorObject *)inputs[0])->version);
            PyObject *sb = sa == NULL ? NULL : version_source(
                PyList_GET_ITEM(edge_list, 1), ((TensorObject *)inputs[1])->version);
            if (sb == NULL) {
                Py_XDECREF(sa);
                goto fail;
            }
            sources = PyList_New(2);
            if (sources == NULL) {
                Py_DECREF(sa);
                Py_DECREF(sb);
                goto fail;
            }
            PyList_SET_ITEM(sources, 0, sa);
            PyList_SET_ITEM(sources, 1, sb);
            Py_XSETREF(fn->sources, sources);
            Py_DECREF(saved_seq);
            return 0;
        }
        /* The general case: where each saved array comes from. */
        arrays = PyList_New(ns);
        sources = PyList_New(ns);
        if (arrays == NULL || sources == NULL)
            goto fail;
        for (j = 0; j < ns; j++) {
            PyObject *array = saved[j], *src = NULL;
            if (array == y_raw) {
                PyList_SET_ITEM(arrays, j, Py_NewRef(out->data));
                src = version_source(output, out->version);
            }
            else {
                PyList_SET_ITEM(arrays, j, Py_NewRef(array));
                for (i = 0; i < n; i++) {
                    if (array == datas[i] && datas[i] != inputs[i]) {
                        src = version_source(PyList_GET_ITEM(edge_list, i),
                                             ((TensorObject *)inputs[i])->version);
                        break;
                    }
                }
                if (i == n)
                    src = Py_NewRef(is_plain_value(array) ? plain_source : constant_source);
            }
            if (src == NULL)
                goto fail;
            PyList_SET_ITEM(sources, j, src);
        }
        Py_XSETREF(fn->saved, arrays);
        Py_XSETREF(fn->sources, sources);
        Py_DECREF(saved_seq);
        return 0;
    }
fail:
    Py_XDECREF(edges);
    Py_XDECREF(meta);
    Py_XDECREF(saved_seq);
    Py_XDECREF(arrays);
    Py_XDECREF(sources);
    return -1;
}

/* Re-raises a ValueError/TypeError from `forward` through function.py's helper, which names
 * the op, the shapes and the dtypes. */
static void
reraise_with_context(PyTypeObject *cls, PyObject *const *inputs, Py_ssize_t n)
{
    PyObject *type, *value, *tb, *args, *r;
    if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_TypeError))
        return;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    args = tuple_of(inputs, n);
    if (args == NULL) {
        PyErr_Restore(type, value, tb);
        return;
    }
    r = PyObject_CallFunctionObjArgs(reraise, (PyObject *)cls, args, value, NULL);
    Py_DECREF(args);
    if (r != NULL) {  /* the helper always raises; keep the original error if it did not */
        Py_DECREF(r);
        PyErr_Restore(type, value, tb);
        return;
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Function.apply: runs cls.forward on the inputs' arrays and records a node (see
 * function_base.py's `apply`, the reference). */
static PyObject *
apply_op(PyTypeObject *cls, PyObject *const *args, Py_ssize_t n, PyObject *kwnames)
{
    FunctionObject *fn;
    PyObject *result = NULL, *y = NULL, *backend = NULL, *out_backend, *array_type = NULL;
    PyObject *small[8];
    PyObject **datas = small;
    Py_ssize_t i, nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames), ndatas = 0;
    int record = 0, scope;
    TensorObject *out;

    if (tensor_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "autograd._ccore: configure() was not called");
        return NULL;
    }
    fn = (FunctionObject *)cls->tp_alloc(cls, 0);
    if (fn == NULL)
        return NULL;
    for (i = 0; i < nkw; i++) {
        if (PyObject_SetAttr((PyObject *)fn, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
            goto done;
    }
    if (tls_raw != NULL) {
        /* Inside a raw first-order rule: arrays in, array out, nothing recorded. */
        fn->backend = Py_NewRef(tls_raw);
        fn->xp = PyObject_GetAttr(tls_raw, s_xp);
        if (fn->xp == NULL)
            goto done;
        result = call_forward((PyObject *)fn, args, n);
        goto done;
    }
    if (n > 8) {
        datas = PyMem_Malloc(n * sizeof(PyObject *));
        if (datas == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    /* One pass over the inputs: their backend and arrays, and whether any needs a gradient. */
    for (i = 0; i < n; i++) {
        PyObject *x = args[i];
        if (TENSOR_CHECK(x)) {
            TensorObject *t = (TensorObject *)x;
            if (t->backend != backend) {
                if (backend == NULL) {
                    backend = Py_NewRef(t->backend);
                }
                else {
                    PyObject *ins = tuple_of(args, n), *r;
                    if (ins != NULL) {
                        r = PyObject_CallFunctionObjArgs(device_mismatch, (PyObject *)cls, ins,
                                                         NULL);
                        Py_XDECREF(r);
                        Py_DECREF(ins);
                    }
                    goto done;
                }
            }
            datas[i] = Py_NewRef(t->data);
            record |= t->requires_grad;
        }
        else {
            datas[i] = Py_NewRef(x);
        }
        ndatas = i + 1;
    }
    if (backend == NULL) {
        backend = PyObject_CallNoArgs(default_backend);
        if (backend == NULL)
            goto done;
    }
    fn->backend = Py_NewRef(backend);
    fn->xp = PyObject_GetAttr(backend, s_xp);
    if (fn->xp == NULL)
        goto done;
    if (record) {
        if (!tls_disabled)
            fn->recording = 1;
        else
            record = 0;
    }
    {
        PyObject *flag = PyObject_GetAttr(backend, s_needs_device_scope);
        if (flag == NULL)
            goto done;
        scope = PyObject_IsTrue(flag);
        Py_DECREF(flag);
        if (scope < 0)
            goto done;
    }
    if (scope) {  /* CuPy runs on the *current* device (cuda:1, ...) */
        PyObject *tuple = tuple_of(datas, n);
        if (tuple == NULL)
            goto done;
        y = PyObject_CallFunctionObjArgs(scoped_forward, (PyObject *)fn, tuple, NULL);
        Py_DECREF(tuple);
    }
    else {
        y = call_forward((PyObject *)fn, datas, n);
    }
    if (y == NULL) {
        reraise_with_context(cls, args, n);
        goto done;
    }
    out_backend = IS_NONE(fn->output_backend) ? backend : fn->output_backend;
    array_type = PyObject_GetAttr(out_backend, s_array_type);
    if (array_type == NULL)
        goto done;
    {
        PyObject *version = NULL, *data = y;
        int converted = 0;
        if ((PyObject *)Py_TYPE(y) != array_type) {
            data = PyObject_CallMethodOneArg(out_backend, s_asarray, y);
            if (data == NULL)
                goto done;
            converted = 1;
        }
        if (class_flag(cls, s_is_view)) {  /* a view shares its first input's counter */
            if (n == 0 || !TENSOR_CHECK(args[0])) {
                PyErr_Format(PyExc_TypeError, "%s: a view op needs a Tensor first input",
                             cls->tp_name);
                if (converted)
                    Py_DECREF(data);
                goto done;
            }
            version = ((TensorObject *)args[0])->version;
        }
        out = (TensorObject *)make_tensor(tensor_type, data, out_backend, version);
        if (converted)
            Py_DECREF(data);
        if (out == NULL)
            goto done;
    }
    if (record && link_node(fn, args, datas, n, y, out) < 0) {
        Py_DECREF(out);
        goto done;
    }
    result = (PyObject *)out;
done:
    for (i = 0; i < ndatas; i++)
        Py_DECREF(datas[i]);
    if (datas != small)
        PyMem_Free(datas);
    Py_XDECREF(y);
    Py_XDECREF(array_type);
    Py_XDECREF(backend);
    Py_DECREF(fn);
    return result;
}

static PyObject *
function_apply(PyObject *cls, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    return apply_op((PyTypeObject *)cls, args, PyVectorcall_NARGS(nargsf), kwnames);
}

static PyObject *
function_save_for_backward(FunctionObject *self, PyObject *arrays)
{
    Py_XSETREF(self->saved, Py_NewRef(arrays));  /* resolved by `link` */
    Py_RETURN_NONE;
}

static PyObject *
function_release(FunctionObject *self, PyObject *unused)
{
    if (!IS_NONE(self->saved))
        Py_XSETREF(self->saved, Py_NewRef(freed));
    Py_RETURN_NONE;
}

/* What `forward` saved, as Tensors (arrays in a raw rule); raises if the graph was freed or a
 * saved tensor modified in place since. */
static PyObject *
function_saved_tensors(FunctionObject *self, void *closure)
{
    PyObject *saved = self->saved, *seq, *result;
    PyObject **items, **srcs = NULL;
    Py_ssize_t i, n, nsrc = 0;
    if (saved == freed) {
        PyErr_Format(PyExc_RuntimeError,
                     "%s: trying to backward through the graph a second time, but its saved "
                     "arrays were freed by the first backward; call backward(retain_graph=True) "
                     "the first time if you need to backward twice",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    if (IS_NONE(saved))
        return PyTuple_New(0);
    if (self->sources != NULL && PyList_Check(self->sources)) {
        srcs = ((PyListObject *)self->sources)->ob_item;
        nsrc = PyList_GET_SIZE(self->sources);
    }
    for (i = 0; i < nsrc; i++) {
        PyObject *box = PyTuple_GET_ITEM(srcs[i], 1);
        if (box != Py_None) {
            PyObject *now = PyList_GET_ITEM(box, 0), *seen = PyTuple_GET_ITEM(srcs[i], 2);
            int differ = now == seen ? 0 : PyObject_RichCompareBool(now, seen, Py_NE);
            if (differ < 0)
                return NULL;
            if (differ) {
                PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, s_raise_modified,
                                                        self->sources);
                Py_XDECREF(r);
                if (r != NULL)
                    PyErr_SetString(PyExc_RuntimeError, "a saved tensor was modified in place");
                return NULL;
            }
        }
    }
    if (tls_raw != NULL)
        return Py_NewRef(saved);  /* a rule running on raw arrays */
    seq = PySequence_Fast(saved, "saved arrays must be a sequence");
    if (seq == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    items = PySequence_Fast_ITEMS(seq);
    result = PyTuple_New(n);
    if (result == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        PyObject *edge = i < nsrc ? PyTuple_GET_ITEM(srcs[i], 0) : Py_None, *t;
        if (edge == plain) {
            t = Py_NewRef(items[i]);
        }
        else if (TENSOR_CHECK(edge)) {
            t = Py_NewRef(edge);
        }
        else {
            t = make_tensor(tensor_type, items[i], self->backend, NULL);
            if (t == NULL)
                goto fail;
            if (edge != Py_None) {
                TensorObject *tt = (TensorObject *)t;
                Py_XSETREF(tt->grad_fn, Py_NewRef(edge == output ? (PyObject *)self : edge));
                tt->requires_grad = 1;
                Py_XSETREF(tt->version, Py_NewRef(PyTuple_GET_ITEM(srcs[i], 1)));
            }
        }
        PyTuple_SET_ITEM(result, i, t);
    }
    Py_DECREF(seq);
    return result;
fail:
    Py_XDECREF(result);
    Py_DECREF(seq);
    return NULL;
}

static PyMemberDef function_members[] = {
    {"backend", T_OBJECT_EX, offsetof(FunctionObject, backend), 0, "the inputs' backend"},
    {"xp", T_OBJECT_EX, offsetof(FunctionObject, xp), 0, "the backend's array namespace"},
    {"needs_input_grad", T_OBJECT_EX, offsetof(FunctionObject, needs_input_grad), 0,
     "per positional input, whether it needs a gradient"},
    {"next_edges", T_OBJECT_EX, offsetof(FunctionObject, next_edges), 0,
     "per positional input, where its gradient goes"},
    {"input_meta", T_OBJECT_EX, offsetof(FunctionObject, input_meta), 0, NULL},
    {"_saved", T_OBJECT, offsetof(FunctionObject, saved), 0, NULL},
    {"_sources", T_OBJECT, offsetof(FunctionObject, sources), 0, NULL},
    {"_hooks", T_OBJECT, offsetof(FunctionObject, hooks), 0, NULL},
    {"_retained", T_OBJECT, offsetof(FunctionObject, retained), 0, NULL},
    {"output_backend", T_OBJECT, offsetof(FunctionObject, output_backend), 0, NULL},
    {"_key", T_LONGLONG, offsetof(FunctionObject, key), 0, NULL},
    {"_observed", T_BOOL, offsetof(FunctionObject, observed), 0, NULL},
    {"_recording", T_BOOL, offsetof(FunctionObject, recording), 0, NULL},
    {NULL}
};

static PyGetSetDef function_getset[] = {
    {"saved_tensors", (getter)function_saved_tensors, NULL,
     "What forward saved, as Tensors; raises if the graph was freed or an input modified.",
     NULL},
    {NULL}
};

static PyMethodDef function_methods[] = {
    {"apply", (PyCFunction)(void (*)(void))function_apply,
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Runs the op on `inputs` (Tensors or plain constants) and returns the output Tensor."},
    {"save_for_backward", (PyCFunction)function_save_for_backward, METH_VARARGS,
     "Keeps forward inputs, the output, or other arrays for `backward` (as Tensors there)."},
    {"release", (PyCFunction)function_release, METH_NOARGS,
     "Drops saved arrays after a backward that does not retain the graph."},
    {NULL}
};

static PyTypeObject FunctionBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "autograd._ccore.FunctionBase",
    .tp_basicsize = sizeof(FunctionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A graph node's fields and apply (the C core; see autograd/function_base.py).",
    .tp_traverse = (traverseproc)function_traverse,
    .tp_clear = (inquiry)function_clear,
    .tp_dealloc = (destructor)function_dealloc,
    .tp_members = function_members,
    .tp_getset = function_getset,
    .tp_methods = function_methods,
    .tp_new = PyType_GenericNew,
};

/* ---- the first-order walk (engine.py's `_walk` with raw arrays and no capture) --------- */
typedef struct {
    FunctionObject **items;  /* strong references, a min-heap by key */
    Py_ssize_t n, cap;
} Heap;

static int
heap_push(Heap *h, FunctionObject *node)
{
    Py_ssize_t i;
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 64;
        FunctionObject **items = PyMem_Realloc(h->items, cap * sizeof(*items));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        h->items = items;
        h->cap = cap;
    }
    Py_INCREF(node);
    i = h->n++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (h->items[parent]->key <= node->key)
            break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = node;
    return 0;
}

static FunctionObject *
heap_pop(Heap *h)  /* the lowest key; a strong reference */
{
    FunctionObject *top = h->items[0], *last = h->items[--h->n];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->items[child + 1]->key < h->items[child]->key)
            child++;
        if (last->key <= h->items[child]->key)
            break;
        h->items[i] = h->items[child];
        i = child;
    }
    if (h->n > 0)
        h->items[i] = last;
    return top;
}

static void
heap_clear(Heap *h)
{
    while (h->n > 0)
        Py_DECREF(h->items[--h->n]);
    PyMem_Free(h->items);
}

/* handed[id(g)] += by (a leaf's gradient array was handed to one more holder) */
static int
hand(PyObject *handed, PyObject *g, long by)
{
    PyObject *key = PyLong_FromVoidPtr(g), *held, *count;
    long now = 0;
    int r;
    if (key == NULL)
        return -1;
    held = PyDict_GetItemWithError(handed, key);
    if (held == NULL && PyErr_Occurred()) {
        Py_DECREF(key);
        return -1;
    }
    if (held != NULL)
        now = PyLong_AsLong(held);
    count = PyLong_FromLong(by == 2 ? 2 : now + by);
    if (count == NULL) {
        Py_DECREF(key);
        return -1;
    }
    r = PyDict_SetItem(handed, key, count);
    Py_DECREF(key);
    Py_DECREF(count);
    return r;
}

/* Whether gx already has its input's shape, dtype and array type (no `_fit_raw` needed). */
static int
fits(PyObject *gx, PyObject *meta, PyObject *array_type)
{
    PyObject *shape, *dtype;
    int same;
    if ((PyObject *)Py_TYPE(gx) != array_type)
        return 0;
    dtype = PyObject_GetAttr(gx, s_dtype);
    if (dtype == NULL)
        return -1;
    same = dtype == PyTuple_GET_ITEM(meta, 1);
    Py_DECREF(dtype);
    if (!same)
        return 0;
    shape = PyObject_GetAttr(gx, s_shape);
    if (shape == NULL)
        return -1;
    same = PyObject_RichCompareBool(shape, PyTuple_GET_ITEM(meta, 0), Py_EQ);
    Py_DECREF(shape);
    return same;
}

static void
set_raw(PyObject **current, PyObject *backend)
{
    set_slot(&tls_raw, backend == NULL ? Py_None : backend);
    *current = backend;
}

/* walk(roots, root_grads, retain) -> (leaves, pending, handed)
 *
 * Runs every reached op once, consumers first, on raw arrays; returns the reached leaves in
 * the order first reached, their summed gradients and the `handed` counts, for engine.py to
 * hand out (`_give_leaf`). */
static PyObject *
core_walk(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *roots, *root_grads, *pending = NULL, *leaves = NULL, *handed = NULL;
    PyObject *result = NULL, *current = NULL;
    FunctionObject *following = NULL, *node = NULL;
    PyObject *g = NULL, *grads = NULL, *edges = NULL, *array_type = NULL, *gx = NULL;
    Heap heap = {NULL, 0, 0};
    Py_ssize_t i, n;
    int retain;

    if (nargs != 3 || !PyList_Check(args[0]) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "walk(roots: list, root_grads: list, retain: bool)");
        return NULL;
    }
    roots = args[0];
    root_grads = args[1];
    retain = PyObject_IsTrue(args[2]);
    if (retain < 0)
        return NULL;
    pending = PyDict_New();
    leaves = PyList_New(0);
    handed = PyDict_New();
    if (pending == NULL || leaves == NULL || handed == NULL)
        goto done;
    n = PyList_GET_SIZE(roots);
    for (i = 0; i < n; i++) {
        PyObject *root = PyList_GET_ITEM(roots, i), *held;
        PyObject *rg = ((TensorObject *)PyList_GET_ITEM(root_grads, i))->data;
        held = PyDict_GetItemWithError(pending, root);
        if (held != NULL) {
            PyObject *sum = PyNumber_Add(held, rg);
            if (sum == NULL || PyDict_SetItem(pending, root, sum) < 0) {
                Py_XDECREF(sum);
                goto done;
            }
            Py_DECREF(sum);
            continue;
        }
        if (PyErr_Occurred() || PyDict_SetItem(pending, root, rg) < 0)
            goto done;
        if (TENSOR_CHECK(root)) {
            if (PyList_Append(leaves, root) < 0)
                goto done;
        }
        else if (heap_push(&heap, (FunctionObject *)root) < 0) {
            goto done;
        }
    }
    for (i = 0; i < n; i++) {
        if (hand(handed, ((TensorObject *)PyList_GET_ITEM(root_grads, i))->data, 2) < 0)
            goto done;
    }

    while (following != NULL || heap.n > 0) {
        Py_ssize_t nedges, k;
        PyObject **edge_items, *meta;
        if (following != NULL) {
            node = following;
            following = NULL;
        }
        else {
            node = heap_pop(&heap);
        }
        g = PyDict_GetItemWithError(pending, (PyObject *)node);
        if (g == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "backward: a node ran without a gradient");
            goto done;
        }
        Py_INCREF(g);
        if (PyDict_DelItem(pending, (PyObject *)node) < 0)
            goto done;
        if (node->next_edges == NULL || !PyList_Check(node->next_edges)) {
            PyErr_SetString(PyExc_RuntimeError, "backward: a node without next_edges");
            goto done;
        }
        edges = Py_NewRef(node->next_edges);
        nedges = PyList_GET_SIZE(edges);
        if (g != Py_None && node->observed) {
            PyObject *seen;
            if (current != NULL)  /* hooks work on Tensors */
                set_raw(&current, NULL);
            seen = PyObject_CallFunctionObjArgs(observe, (PyObject *)node, g, Py_True,
                                                Py_False, Py_None, handed, NULL);
            if (seen == NULL)
                goto done;
            Py_SETREF(g, seen);
        }
        if (g != Py_None) {
            if (class_flag(Py_TYPE(node), s_raw_backward)) {
                PyObject *stack[2] = {(PyObject *)node, g};
                if (node->backend != current)
                    set_raw(&current, node->backend);
                grads = PyObject_VectorcallMethod(s_backward, stack, 2, NULL);
            }
            else {
                if (current != NULL)  /* a Tensor rule must not see raw mode */
                    set_raw(&current, NULL);
                grads = PyObject_CallFunctionObjArgs(tensor_rule, (PyObject *)node, g, NULL);
            }
            if (grads == NULL)
                goto done;
            if (!PyTuple_CheckExact(grads)) {
                PyObject *one = PyTuple_Pack(1, grads);
                if (one == NULL)
                    goto done;
                Py_SETREF(grads, one);
            }
            if (PyTuple_GET_SIZE(grads) != nedges) {
                PyObject *name = PyObject_CallMethodNoArgs((PyObject *)node, s_name);
                if (name != NULL) {
                    PyErr_Format(PyExc_RuntimeError,
                                 "%U.backward returned %zd gradients for %zd inputs", name,
                                 PyTuple_GET_SIZE(grads), nedges);
                    Py_DECREF(name);
                }
                goto done;
            }
            if (!retain && !IS_NONE(node->saved))
                Py_XSETREF(node->saved, Py_NewRef(freed));
        }
        array_type = PyObject_GetAttr(node->backend, s_array_type);
        if (array_type == NULL)
            goto done;
        meta = node->input_meta;
        edge_items = ((PyListObject *)edges)->ob_item;
        for (k = 0; k < nedges; k++) {
            PyObject *edge = edge_items[k], *held;
            int is_op;
            if (edge == Py_None)
                continue;
            gx = Py_NewRef(grads == NULL ? Py_None : PyTuple_GET_ITEM(grads, k));
            if (gx != Py_None) {
                PyObject *m = PyList_GET_ITEM(meta, k);
                int ok = fits(gx, m, array_type);
                if (ok < 0)
                    goto done;
                if (!ok) {
                    PyObject *fitted = PyObject_CallFunctionObjArgs(
                        fit_raw, gx, PyTuple_GET_ITEM(m, 0), PyTuple_GET_ITEM(m, 1),
                        (PyObject *)node, NULL);
                    if (fitted == NULL)
                        goto done;
                    Py_SETREF(gx, fitted);
                }
            }
            is_op = FUNCTION_CHECK(edge);
            held = PyDict_GetItemWithError(pending, edge);
            if (held == NULL) {
                if (PyErr_Occurred())
                    goto done;
                /* First reached: it runs (and frees its arrays) even if only None arrives. */
                if (PyDict_SetItem(pending, edge, gx) < 0)
                    goto done;
                if (is_op) {
                    FunctionObject *op = (FunctionObject *)edge;
                    if (op->key == node->key + 1) {
                        /* Recorded right before this node: nothing else can run before it,
                         * so it skips the heap (every step of a chain). */
                        following = (FunctionObject *)Py_NewRef(edge);
                    }
                    else if (heap_push(&heap, op) < 0) {
                        goto done;
                    }
                    Py_CLEAR(gx);
                    continue;
                }
                if (PyList_Append(leaves, edge) < 0)
                    goto done;
                if (gx == Py_None) {
                    Py_CLEAR(gx);
                    continue;
                }
            }
            else if (held != Py_None) {
                if (gx != Py_None) {
                    PyObject *sum = PyNumber_Add(held, gx);
                    if (sum == NULL)
                        goto done;
                    if (PyDict_SetItem(pending, edge, sum) < 0) {
                        Py_DECREF(sum);
                        goto done;
                    }
                    Py_DECREF(sum);
                }
                Py_CLEAR(gx);
                continue;
            }
            else if (gx == Py_None) {
                Py_CLEAR(gx);
                continue;
            }
            else {
                if (PyDict_SetItem(pending, edge, gx) < 0)
                    goto done;
                if (is_op) {
                    Py_CLEAR(gx);
                    continue;
                }
            }
            /* A leaf's gradient: count its holders (see engine.py's `handed`). */
            if (hand(handed, gx, 1) < 0)
                goto done;
            Py_CLEAR(gx);
        }
        Py_CLEAR(array_type);
        Py_CLEAR(grads);
        Py_CLEAR(edges);
        Py_CLEAR(g);
        Py_CLEAR(node);
    }
    result = PyTuple_Pack(3, leaves, pending, handed);
done:
    set_raw(&current, NULL);
    Py_XDECREF(gx);
    Py_XDECREF(array_type);
    Py_XDECREF(grads);
    Py_XDECREF(edges);
    Py_XDECREF(g);
    Py_XDECREF(node);
    Py_XDECREF(following);
    heap_clear(&heap);
    Py_XDECREF(pending);
    Py_XDECREF(leaves);
    Py_XDECREF(handed);
    return result;
}

/* ---- module ---------------------------------------------------------------------------- */
typedef struct {
    const char *name;
    PyObject **slot;
} Setting;

static PyObject *
core_configure(PyObject *module, PyObject *args, PyObject *kwargs)
{
    Setting settings[] = {
        {"Tensor", (PyObject **)&tensor_type}, {"FREED", &freed}, {"PLAIN", &plain},
        {"OUTPUT", &output}, {"default_backend", &default_backend}, {"reraise", &reraise},
        {"device_mismatch", &device_mismatch}, {"scoped_forward", &scoped_forward},
        {"lift", &lift}, {"Add", &op_add}, {"Sub", &op_sub}, {"Mul", &op_mul},
        {"Div", &op_div}, {"Neg", &op_neg}, {"observe", &observe},
        {"tensor_rule", &tensor_rule}, {"fit_raw", &fit_raw}, {NULL, NULL},
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
        if (s->slot == (PyObject **)&tensor_type &&
            !(PyType_Check(value) && PyType_IsSubtype((PyTypeObject *)value, &TensorBaseType))) {
            PyErr_SetString(PyExc_TypeError, "configure: Tensor must subclass TensorBase");
            return NULL;
        }
        Py_XSETREF(*s->slot, Py_NewRef(value));
    }
    if (plain != NULL) {  /* the saved-source tuples of plain values and constants */
        Py_XSETREF(plain_source, PyTuple_Pack(3, plain, Py_None, zero));
        Py_XSETREF(constant_source, PyTuple_Pack(3, Py_None, Py_None, zero));
        if (plain_source == NULL || constant_source == NULL)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
core_next_key(PyObject *module, PyObject *unused)
{
    return PyLong_FromLongLong(next_key--);
}

static PyMethodDef core_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))core_configure, METH_VARARGS | METH_KEYWORDS,
     "Hands the core the Python classes, sentinels and slow-path helpers it calls."},
    {"walk", (PyCFunction)(void (*)(void))core_walk, METH_FASTCALL,
     "walk(roots, root_grads, retain) -> (leaves, pending, handed): a first-order backward."},
    {"next_key", core_next_key, METH_NOARGS, "The next creation number (counting down)."},
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
    if (intern(&s_forward, "forward") || intern(&s_backward, "backward") ||
        intern(&s_xp, "xp") || intern(&s_array_type, "array_type") ||
        intern(&s_asarray, "asarray") || intern(&s_shape, "shape") ||
        intern(&s_dtype, "dtype") || intern(&s_needs_device_scope, "needs_device_scope") ||
        intern(&s_is_view, "is_view") || intern(&s_raw_backward, "raw_backward") ||
        intern(&s_raise_modified, "_raise_modified") || intern(&s_name, "name"))
        return NULL;
    zero = PyLong_FromLong(0);
    needs_1 = PyTuple_Pack(1, Py_True);
    needs_tt = PyTuple_Pack(2, Py_True, Py_True);
    needs_tf = PyTuple_Pack(2, Py_True, Py_False);
    needs_ft = PyTuple_Pack(2, Py_False, Py_True);
    if (zero == NULL || needs_1 == NULL || needs_tt == NULL || needs_tf == NULL ||
        needs_ft == NULL)
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
