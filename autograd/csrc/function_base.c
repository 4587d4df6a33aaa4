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

/* A class attribute's truth (is_view, raw_backward), through the type's attribute cache. */
int
class_flag(PyTypeObject *cls, PyObject *name)
{
    PyObject *value = _PyType_Lookup(cls, name);
    return value != NULL && value != Py_False && value != Py_None && PyObject_IsTrue(value) > 0;
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

/* What `forward` saved, as Tensors (arrays in a raw rule); raises if the graph was freed or a
 * saved tensor modified in place since. */
static PyObject *
function_saved_tensors(FunctionObject *self, void *closure)
{
    PyObject *saved = self->saved, *seq, *result;
    PyObject **items, **srcs = NULL;
    Py_ssize_t i, n, nsrc = 0;
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
                PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, K.s_raise_modified,
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
        if (edge == K.plain) {
            t = Py_NewRef(items[i]);
        }
        else if (TENSOR_CHECK(edge)) {
            t = Py_NewRef(edge);
        }
        else {
            t = make_tensor(K.tensor_type, items[i], self->backend, NULL);
            if (t == NULL)
                goto fail;
            if (edge != Py_None) {
                TensorObject *tt = (TensorObject *)t;
                Py_XSETREF(tt->grad_fn, Py_NewRef(edge == K.output ? (PyObject *)self : edge));
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
