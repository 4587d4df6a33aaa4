/* FunctionBase: a graph node's fields, `save_for_backward`, `saved_tensors`, `release`, and
 * the `apply` classmethod (its body is apply.c); function_base.py is the Python reference. */
#include "core.h"

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

/* A class attribute's truth (is_view, raw_backward), through the type's attribute cache: 1,
 * 0, or -1 with an exception set (a value whose truth raises). */
int
class_flag(PyTypeObject *cls, PyObject *name)
{
    PyObject *value = _PyType_Lookup(cls, name);
    if (value == NULL || value == Py_False || value == Py_None)
        return 0;
    if (value == Py_True)
        return 1;
    Py_INCREF(value);  /* its __bool__ may change the class */
    {
        int truth = PyObject_IsTrue(value);
        Py_DECREF(value);
        return truth;
    }
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
        Py_XSETREF(self->saved, Py_NewRef(K.freed));
    Py_RETURN_NONE;
}

/* Whether what `forward` saved was modified in place since (a version counter moved on):
 * 0 no, 1 yes (`_raise_modified` then raised), -1 error. `sources` is a tuple of
 * (edge, version box or None, version seen), as `link_node` makes it; Python code may have
 * replaced it, so each item is checked (TypeError/ValueError, as unpacking it in Python). */
static int
saved_modified(FunctionObject *self, PyObject *sources)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(sources);
    const char *op = Py_TYPE(self)->tp_name;
    for (i = 0; i < n; i++) {
        PyObject *src = PyTuple_GET_ITEM(sources, i), *box, *now, *seen;
        int differ;
        if (!PyTuple_Check(src) || PyTuple_GET_SIZE(src) != 3) {
            PyErr_Format(PyTuple_Check(src) ? PyExc_ValueError : PyExc_TypeError,
                         "%s: _sources must hold (edge, version box, version) triples, got %s",
                         op, Py_TYPE(src)->tp_name);
            return -1;
        }
        box = PyTuple_GET_ITEM(src, 1);
        if (box == Py_None)
            continue;
        if (!version_box_ok(box))
            return raise_bad_version_box(box, op);
        now = PyList_GET_ITEM(box, 0);
        seen = PyTuple_GET_ITEM(src, 2);
        if (now == seen)
            continue;
        Py_INCREF(now);  /* the compare may run code that changes the box */
        differ = PyObject_RichCompareBool(now, seen, Py_NE);
        Py_DECREF(now);
        if (differ < 0)
            return -1;
        if (differ) {
            PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, K.s_raise_modified,
                                                    sources);
            Py_XDECREF(r);
            if (r != NULL)
                PyErr_SetString(PyExc_RuntimeError, "a saved tensor was modified in place");
            return 1;
        }
    }
    return 0;
}

/* What `forward` saved, as Tensors (arrays in a raw rule); raises if the graph was freed or a
 * saved tensor modified in place since. */
static PyObject *
function_saved_tensors(FunctionObject *self, void *closure)
{
    PyObject *saved = self->saved, *seq = NULL, *sources = NULL, *result = NULL;
    Py_ssize_t i, n, nsrc = 0;
    int modified;
    if (!K.ready) {
        raise_not_ready();
        return NULL;
    }
    if (saved == K.freed) {
        PyErr_Format(PyExc_RuntimeError,
                     "%s: trying to backward through the graph a second time, but its saved "
                     "arrays were freed by the first backward; call backward(retain_graph=True) "
                     "the first time if you need to backward twice",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    if (IS_NONE(saved))
        return PyTuple_New(0);
    Py_INCREF(saved);  /* held: reading _sources below may run Python code */
    /* A tuple, as link_node makes it (free): what Python code put there cannot change under
     * the loops below. */
    sources = PySequence_Tuple(OR_NONE(self->sources));
    if (sources == NULL)
        goto done;
    nsrc = PyTuple_GET_SIZE(sources);
    modified = saved_modified(self, sources);
    if (modified != 0)
        goto done;
    if (tls_raw != NULL) {  /* a rule running on raw arrays */
        result = Py_NewRef(saved);
        goto done;
    }
    if (self->backend == NULL) {
        PyErr_Format(PyExc_AttributeError, "'%s' object has no attribute 'backend' (a node "
                     "made by apply has one)", Py_TYPE(self)->tp_name);
        goto done;
    }
    seq = PySequence_Tuple(saved);
    if (seq == NULL)
        goto done;
    n = PyTuple_GET_SIZE(seq);
    result = PyTuple_New(n);
    if (result == NULL)
        goto done;
    for (i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i), *t;
        PyObject *edge = i < nsrc ? PyTuple_GET_ITEM(PyTuple_GET_ITEM(sources, i), 0) : Py_None;
        if (edge == K.plain) {
            t = Py_NewRef(item);
        }
        else if (TENSOR_CHECK(edge)) {
            t = Py_NewRef(edge);
        }
        else {
            t = make_tensor(K.tensor_type, item, self->backend, NULL);
            if (t == NULL) {
                Py_CLEAR(result);
                goto done;
            }
            if (edge != Py_None) {
                TensorObject *tt = (TensorObject *)t;
                Py_XSETREF(tt->grad_fn, Py_NewRef(edge == K.output ? (PyObject *)self : edge));
                tt->requires_grad = 1;
                Py_XSETREF(tt->version,
                           Py_NewRef(PyTuple_GET_ITEM(PyTuple_GET_ITEM(sources, i), 1)));
            }
        }
        PyTuple_SET_ITEM(result, i, t);
    }
done:
    Py_XDECREF(seq);
    Py_XDECREF(sources);
    Py_DECREF(saved);
    return result;
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

PyTypeObject FunctionBaseType = {
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
