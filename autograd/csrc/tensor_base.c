/* TensorBase: Tensor's fields as C members, `_make`, and the operators + - * / and unary -
 * (tensor_base.py is the Python reference). */
#include "core.h"

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
        PyList_SET_ITEM(box, 0, Py_NewRef(K.zero));
    return box;
}

/* A Tensor of `type` wrapping `data` on `backend`, with `version` (NULL: a fresh counter). */
PyObject *
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

/* Whether `value` may be the `.grad` of `self`: a Tensor on its device with its dtype and
 * shape (tensor_base.py's `_grad_fits`). 1 yes, 0 no, -1 error. */
static int
grad_fits(TensorObject *self, PyObject *value)
{
    TensorObject *g = (TensorObject *)value;
    PyObject *a, *b;
    int same;
    if (!TENSOR_CHECK(value) || !TENSOR_READY(self) || !TENSOR_READY(value) ||
        g->backend != self->backend)
        return 0;
    if ((a = PyObject_GetAttr(self->data, K.s_dtype)) == NULL)
        return -1;
    if ((b = PyObject_GetAttr(g->data, K.s_dtype)) == NULL) {
        Py_DECREF(a);
        return -1;
    }
    same = a == b ? 1 : PyObject_RichCompareBool(a, b, Py_EQ);
    Py_DECREF(a);
    Py_DECREF(b);
    if (same <= 0)
        return same;
    if ((a = PyObject_GetAttr(self->data, K.s_shape)) == NULL)
        return -1;
    if ((b = PyObject_GetAttr(g->data, K.s_shape)) == NULL) {
        Py_DECREF(a);
        return -1;
    }
    same = PyObject_RichCompareBool(a, b, Py_EQ);
    Py_DECREF(a);
    Py_DECREF(b);
    return same;
}

static PyObject *
tensor_get_grad(TensorObject *self, void *closure)
{
    return Py_NewRef(OR_NONE(self->grad));
}

/* `t.grad = value`: None, or a Tensor of t's shape, dtype and device (as in PyTorch); anything
 * else raises through tensor_base.py's `_raise_bad_grad`, which names both. `del t.grad` is
 * `t.grad = None`. The engine writes `_grad`, unchecked: what it writes always fits. */
static int
tensor_set_grad(TensorObject *self, PyObject *value, void *closure)
{
    if (value != NULL && value != Py_None) {
        int fits = grad_fits(self, value);
        if (fits <= 0) {
            PyObject *r;
            if (fits < 0 && !PyErr_ExceptionMatches(PyExc_AttributeError))
                return -1;
            PyErr_Clear();
            if (K.grad_error == NULL) {
                PyErr_SetString(PyExc_TypeError, "Tensor.grad: expected None or a Tensor of "
                                                 "the tensor's shape, dtype and device");
                return -1;
            }
            r = PyObject_CallFunctionObjArgs(K.grad_error, (PyObject *)self, value, NULL);
            if (r == NULL)
                return -1;
            Py_DECREF(r);  /* the helper always raises; if it did not, the value stays out */
            PyErr_SetString(PyExc_TypeError, "Tensor.grad: the value does not fit the tensor");
            return -1;
        }
    }
    Py_XSETREF(self->grad, Py_NewRef(value == NULL ? Py_None : value));
    return 0;
}

static PyMemberDef tensor_members[] = {
    {"array", T_OBJECT_EX, offsetof(TensorObject, data), 0, "the backend array"},
    {"_grad", T_OBJECT, offsetof(TensorObject, grad), 0, NULL},
    {"grad_fn", T_OBJECT, offsetof(TensorObject, grad_fn), 0, "the op that produced it"},
    {"_backend", T_OBJECT_EX, offsetof(TensorObject, backend), 0, NULL},
    {"_version", T_OBJECT_EX, offsetof(TensorObject, version), 0, NULL},
    {"_hooks", T_OBJECT, offsetof(TensorObject, hooks), 0, NULL},
    {NULL}
};

static PyGetSetDef tensor_getset[] = {
    {"grad", (getter)tensor_get_grad, (setter)tensor_set_grad,
     "the accumulated gradient: None or a Tensor of this tensor's shape, dtype and device",
     NULL},
    {"requires_grad", (getter)tensor_get_requires_grad, (setter)tensor_set_requires_grad,
     "whether backward accumulates a gradient for it", NULL},
    {NULL}
};

/* The dtype of a Tensor's array (a new reference), or NULL with an error set. */
static PyObject *
tensor_dtype(PyObject *t)
{
    PyObject *data = ((TensorObject *)t)->data;
    if (data == NULL) {
        raise_uninitialised(t, 0, "operator");
        return NULL;
    }
    return array_dtype(data);  /* attrs.c: through the array type's C getter */
}

/* Whether `dtype` is one of the floating dtypes `configure` handed over (by identity). */
static int
is_floating(PyObject *dtype)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(K.floating);
    for (i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(K.floating, i) == dtype)
            return 1;
    }
    return 0;
}

/* 1 where NumPy's result type of `tensor op other` is PyTorch's, so the op runs as it is: a
 * Python int (except in division), a Python float with a floating tensor, or two tensors of
 * one dtype (floating, in division); 0 where promotion.py must cast first; -1 on error. */
static int
needs_no_cast(PyObject *op, PyObject *tensor, PyObject *other)
{
    PyObject *dtype, *other_dtype;
    int plain, divide = op == K.op_div, other_is_tensor = TENSOR_CHECK(other);
    if (PyLong_CheckExact(other) && !divide)
        return 1;
    if (!(other_is_tensor || PyFloat_CheckExact(other) || PyLong_CheckExact(other)))
        return 0;
    dtype = tensor_dtype(tensor);
    if (dtype == NULL)
        return -1;
    if (other_is_tensor) {
        other_dtype = tensor_dtype(other);
        if (other_dtype == NULL) {
            Py_DECREF(dtype);
            return -1;
        }
        plain = dtype == other_dtype && (!divide || is_floating(dtype));
        Py_DECREF(other_dtype);
    }
    else {
        plain = is_floating(dtype);
    }
    Py_DECREF(dtype);
    return plain;
}

/* `a op b` for Tensor operators (tensor_base.py is the reference): straight to the op where no
 * cast is needed, else through `promote` (promotion.binary: PyTorch's type promotion, and
 * arrays or lists lifted to constant Tensors on the tensor's backend). */
static PyObject *
binary(PyObject *op, PyObject *a, PyObject *b)
{
    PyObject *pair[2] = {a, b};
    int a_is_tensor = TENSOR_CHECK(a), plain;
    if (!K.ready) {
        raise_not_ready();
        return NULL;
    }
    plain = needs_no_cast(op, a_is_tensor ? a : b, a_is_tensor ? b : a);
    if (plain < 0)
        return NULL;
    if (!plain)
        return PyObject_CallFunctionObjArgs(K.promote, op, a, b, NULL);
    return apply_op((PyTypeObject *)op, pair, 2, NULL);
}

static PyObject *tensor_add(PyObject *a, PyObject *b) { return binary(K.op_add, a, b); }
static PyObject *tensor_sub(PyObject *a, PyObject *b) { return binary(K.op_sub, a, b); }
static PyObject *tensor_mul(PyObject *a, PyObject *b) { return binary(K.op_mul, a, b); }
static PyObject *tensor_div(PyObject *a, PyObject *b) { return binary(K.op_div, a, b); }

static PyObject *
tensor_neg(PyObject *a)
{
    if (!K.ready) {
        raise_not_ready();
        return NULL;
    }
    return apply_op((PyTypeObject *)K.op_neg, &a, 1, NULL);
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

PyTypeObject TensorBaseType = {
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
