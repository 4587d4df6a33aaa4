/* Function.apply: the input scan, `forward` on raw arrays, the output Tensor and the linking
 * of the new node to its inputs' nodes (function_base.py's `apply` and `_link`, the reference). */
#include "core.h"

int anomaly_mode;  /* see core.h */

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
    y = PyObject_VectorcallMethod(K.s_forward, stack, n + 1, NULL);
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

/* (edge, box, box[0]); `box` is a Tensor's `_version`, which Python code may have replaced. */
static PyObject *
version_source(PyObject *edge, PyObject *box, const char *op)
{
    if (!version_box_ok(box)) {
        raise_bad_version_box(box, op);
        return NULL;
    }
    return PyTuple_Pack(3, edge, box, PyList_GET_ITEM(box, 0));
}

/* (shape, dtype) of an array */
static PyObject *
array_meta(PyObject *array)
{
    PyObject *shape = array_shape(array), *dtype, *meta;
    if (shape == NULL)
        return NULL;
    dtype = array_dtype(array);
    if (dtype == NULL) {
        Py_DECREF(shape);
        return NULL;
    }
    meta = PyTuple_Pack(2, shape, dtype);
    Py_DECREF(shape);
    Py_DECREF(dtype);
    return meta;
}

/* Whether `dtype` is one of the complex dtypes (pointer compares: NumPy's builtin dtypes are
 * singletons, and CuPy uses them too). */
static int
is_complex_dtype(PyObject *dtype)
{
    Py_ssize_t i;
    if (K.complex_dtypes == NULL || !PyTuple_Check(K.complex_dtypes))
        return 0;
    for (i = 0; i < PyTuple_GET_SIZE(K.complex_dtypes); i++) {
        if (PyTuple_GET_ITEM(K.complex_dtypes, i) == dtype)
            return 1;
    }
    return 0;
}

/* Raises (through function_base.py's `_refuse_complex`): a recorded op may neither take nor
 * make a complex array, since kedja computes no complex gradients. */
static void
refuse_complex(FunctionObject *fn, PyObject *const *inputs, Py_ssize_t n, TensorObject *out)
{
    PyObject *args, *r;
    if (K.refuse_complex == NULL) {
        PyErr_SetString(PyExc_TypeError, "autograd: complex tensors cannot require grad");
        return;
    }
    args = tuple_of(inputs, n);
    if (args == NULL)
        return;
    r = PyObject_CallFunctionObjArgs(K.refuse_complex, (PyObject *)Py_TYPE(fn), args,
                                     (PyObject *)out, NULL);
    Py_DECREF(args);
    if (r != NULL) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "autograd: complex tensors cannot require grad");
    }
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
    const char *op = Py_TYPE(fn)->tp_name;
    Py_ssize_t i, j, ns;
    int complex_seen = 0;
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
            complex_seen |= is_complex_dtype(PyTuple_GET_ITEM(m, 1));
        }
        else {
            PyList_SET_ITEM(edges, i, Py_NewRef(Py_None));
            PyList_SET_ITEM(meta, i, Py_NewRef(Py_None));
        }
    }
    {  /* no complex gradients: refuse complex inputs that require grad and complex outputs */
        PyObject *dtype = array_dtype(out->data);
        if (dtype == NULL)
            goto fail;
        complex_seen |= is_complex_dtype(dtype);
        Py_DECREF(dtype);
        if (complex_seen) {
            refuse_complex(fn, inputs, n, out);
            goto fail;
        }
    }
    if (n == 1) {
        needs = Py_NewRef(K.needs_1);
    }
    else if (n == 2) {
        int need_a = PyList_GET_ITEM(edges, 0) != Py_None;
        int need_b = PyList_GET_ITEM(edges, 1) != Py_None;
        needs = Py_NewRef(need_a ? (need_b ? K.needs_tt : K.needs_tf) : K.needs_ft);
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
    fn->key = K.next_key--;
    Py_XSETREF(out->grad_fn, Py_NewRef((PyObject *)fn));
    out->requires_grad = 1;

    if (IS_NONE(fn->saved))
        return 0;
    /* A tuple (what save_for_backward keeps): its items cannot change under the loops below. */
    saved_seq = PySequence_Tuple(fn->saved);
    if (saved_seq == NULL)
        goto fail;
    ns = PyTuple_GET_SIZE(saved_seq);
    {
        PyObject **saved = ((PyTupleObject *)saved_seq)->ob_item;
        PyObject *edge_list = fn->next_edges;
        if (ns == 1 && saved[0] == y_raw && out->data == y_raw) {
            /* Only the output saved (tanh, exp, sigmoid, relu). */
            PyObject *src = version_source(K.output, out->version, op);
            if (src == NULL)
                goto fail;
            sources = PyTuple_New(1);
            if (sources == NULL) {
                Py_DECREF(src);
                goto fail;
            }
            PyTuple_SET_ITEM(sources, 0, src);
            Py_XSETREF(fn->sources, sources);
            Py_DECREF(saved_seq);
            return 0;
        }
        if (n == 2 && ns == 2 && saved[0] == datas[0] && saved[1] == datas[1] &&
            datas[0] != inputs[0] && datas[1] != inputs[1]) {
            /* Both tensor inputs saved (most binary ops). */
            PyObject *sa = version_source(PyList_GET_ITEM(edge_list, 0),
                                          ((TensorObject *)inputs[0])->version, op);
            PyObject *sb = sa == NULL ? NULL : version_source(
                PyList_GET_ITEM(edge_list, 1), ((TensorObject *)inputs[1])->version, op);
            if (sb == NULL) {
                Py_XDECREF(sa);
                goto fail;
            }
            sources = PyTuple_New(2);
            if (sources == NULL) {
                Py_DECREF(sa);
                Py_DECREF(sb);
                goto fail;
            }
            PyTuple_SET_ITEM(sources, 0, sa);
            PyTuple_SET_ITEM(sources, 1, sb);
            Py_XSETREF(fn->sources, sources);
            Py_DECREF(saved_seq);
            return 0;
        }
        /* The general case: where each saved array comes from. */
        arrays = PyTuple_New(ns);
        sources = PyTuple_New(ns);
        if (arrays == NULL || sources == NULL)
            goto fail;
        for (j = 0; j < ns; j++) {
            PyObject *array = saved[j], *src = NULL;
            if (array == y_raw) {
                PyTuple_SET_ITEM(arrays, j, Py_NewRef(out->data));
                src = version_source(K.output, out->version, op);
            }
            else {
                PyTuple_SET_ITEM(arrays, j, Py_NewRef(array));
                for (i = 0; i < n; i++) {
                    if (array == datas[i] && datas[i] != inputs[i]) {
                        src = version_source(PyList_GET_ITEM(edge_list, i),
                                             ((TensorObject *)inputs[i])->version, op);
                        break;
                    }
                }
                if (i == n)
                    src = Py_NewRef(is_plain_value(array) ? K.plain_source : K.constant_source);
            }
            if (src == NULL)
                goto fail;
            PyTuple_SET_ITEM(sources, j, src);
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
    r = PyObject_CallFunctionObjArgs(K.reraise, (PyObject *)cls, args, value, NULL);
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
PyObject *
apply_op(PyTypeObject *cls, PyObject *const *args, Py_ssize_t n, PyObject *kwnames)
{
    FunctionObject *fn;
    PyObject *result = NULL, *y = NULL, *backend = NULL, *out_backend, *array_type = NULL;
    PyObject *small[8];
    PyObject **datas = small;
    Py_ssize_t i, nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames), ndatas = 0;
    int record = 0, scope;
    TensorObject *out;

    if (!K.ready) {
        raise_not_ready();
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
        Py_XSETREF(fn->backend, Py_NewRef(tls_raw));
        Py_XSETREF(fn->xp, PyObject_GetAttr(tls_raw, K.s_xp));
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
            if (!TENSOR_READY(t)) {
                raise_uninitialised(x, i, cls->tp_name);
                goto done;
            }
            if (t->backend != backend) {
                if (backend == NULL) {
                    backend = Py_NewRef(t->backend);
                }
                else {
                    PyObject *ins = tuple_of(args, n), *r;
                    if (ins != NULL) {
                        r = PyObject_CallFunctionObjArgs(K.device_mismatch, (PyObject *)cls, ins,
                                                         NULL);
                        Py_DECREF(ins);
                        if (r != NULL) {  /* the helper raises; keep an error if it did not */
                            Py_DECREF(r);
                            PyErr_Format(PyExc_RuntimeError,
                                         "%s: tensors on different devices", cls->tp_name);
                        }
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
        backend = PyObject_CallNoArgs(K.default_backend);
        if (backend == NULL)
            goto done;
    }
    Py_XSETREF(fn->backend, Py_NewRef(backend));
    Py_XSETREF(fn->xp, PyObject_GetAttr(backend, K.s_xp));
    if (fn->xp == NULL)
        goto done;
    if (record) {
        if (!tls_disabled)
            fn->recording = 1;
        else
            record = 0;
    }
    {
        PyObject *flag = PyObject_GetAttr(backend, K.s_needs_device_scope);
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
        y = PyObject_CallFunctionObjArgs(K.scoped_forward, (PyObject *)fn, tuple, NULL);
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
    array_type = PyObject_GetAttr(out_backend, K.s_array_type);
    if (array_type == NULL)
        goto done;
    {
        PyObject *version = NULL, *data = y;
        int converted = 0;
        if ((PyObject *)Py_TYPE(y) != array_type) {
            data = PyObject_CallMethodOneArg(out_backend, K.s_asarray, y);
            if (data == NULL)
                goto done;
            converted = 1;
        }
        int is_view = class_flag(cls, K.s_is_view);
        if (is_view < 0) {
            if (converted)
                Py_DECREF(data);
            goto done;
        }
        if (is_view) {  /* a view shares its first input's counter */
            if (n == 0 || !TENSOR_CHECK(args[0])) {
                PyErr_Format(PyExc_TypeError, "%s: a view op needs a Tensor first input",
                             cls->tp_name);
                if (converted)
                    Py_DECREF(data);
                goto done;
            }
            version = ((TensorObject *)args[0])->version;
        }
        out = (TensorObject *)make_tensor(K.tensor_type, data, out_backend, version);
        if (converted)
            Py_DECREF(data);
        if (out == NULL)
            goto done;
    }
    if (record && link_node(fn, args, datas, n, y, out) < 0) {
        Py_DECREF(out);
        goto done;
    }
    if (record && anomaly_mode && !IS_NONE(K.anomaly_record)) {  /* keep the forward stack */
        PyObject *r = PyObject_CallOneArg(K.anomaly_record, (PyObject *)fn);
        if (r == NULL) {
            Py_DECREF(out);
            goto done;
        }
        Py_DECREF(r);
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
