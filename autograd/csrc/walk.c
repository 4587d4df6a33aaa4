/* The first-order backward walk (engine.py's `_run_ops` with raw arrays and no capture). */
#include "core.h"

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
    dtype = PyObject_GetAttr(gx, K.s_dtype);
    if (dtype == NULL)
        return -1;
    same = dtype == PyTuple_GET_ITEM(meta, 1);
    Py_DECREF(dtype);
    if (!same)
        return 0;
    shape = PyObject_GetAttr(gx, K.s_shape);
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
PyObject *
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
            seen = PyObject_CallFunctionObjArgs(K.observe, (PyObject *)node, g, Py_True,
                                                Py_False, Py_None, handed, NULL);
            if (seen == NULL)
                goto done;
            Py_SETREF(g, seen);
        }
        if (g != Py_None) {
            if (class_flag(Py_TYPE(node), K.s_raw_backward)) {
                PyObject *stack[2] = {(PyObject *)node, g};
                if (node->backend != current)
                    set_raw(&current, node->backend);
                grads = PyObject_VectorcallMethod(K.s_backward, stack, 2, NULL);
            }
            else {
                if (current != NULL)  /* a Tensor rule must not see raw mode */
                    set_raw(&current, NULL);
                grads = PyObject_CallFunctionObjArgs(K.tensor_rule, (PyObject *)node, g, NULL);
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
                PyObject *name = PyObject_CallMethodNoArgs((PyObject *)node, K.s_name);
                if (name != NULL) {
                    PyErr_Format(PyExc_RuntimeError,
                                 "%U.backward returned %zd gradients for %zd inputs", name,
                                 PyTuple_GET_SIZE(grads), nedges);
                    Py_DECREF(name);
                }
                goto done;
            }
            if (!retain && !IS_NONE(node->saved))
                Py_XSETREF(node->saved, Py_NewRef(K.freed));
        }
        array_type = PyObject_GetAttr(node->backend, K.s_array_type);
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
                        K.fit_raw, gx, PyTuple_GET_ITEM(m, 0), PyTuple_GET_ITEM(m, 1),
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
