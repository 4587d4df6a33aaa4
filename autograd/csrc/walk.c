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
    dtype = array_dtype(gx);
    if (dtype == NULL)
        return -1;
    same = dtype == PyTuple_GET_ITEM(meta, 1);
    Py_DECREF(dtype);
    if (!same)
        return 0;
    shape = array_shape(gx);
    if (shape == NULL)
        return -1;
    same = PyObject_RichCompareBool(shape, PyTuple_GET_ITEM(meta, 0), Py_EQ);
    Py_DECREF(shape);
    return same;
}

/* Checks walk's roots and root gradients (tuples: copies of the lists it was given): one
 * length, roots that are Tensors or graph nodes, gradients that are initialised Tensors. */
static int
check_roots(PyObject *roots, PyObject *grads)
{
    Py_ssize_t i, n = PyTuple_GET_SIZE(roots);
    if (PyTuple_GET_SIZE(grads) != n) {
        PyErr_Format(PyExc_ValueError, "walk: %zd roots but %zd root gradients", n,
                     PyTuple_GET_SIZE(grads));
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *root = PyTuple_GET_ITEM(roots, i), *g = PyTuple_GET_ITEM(grads, i);
        if (!TENSOR_CHECK(root) && !FUNCTION_CHECK(root)) {
            PyErr_Format(PyExc_TypeError, "walk: root %zd must be a Tensor or a Function, "
                         "got %s", i, Py_TYPE(root)->tp_name);
            return -1;
        }
        if (!TENSOR_CHECK(g) || ((TensorObject *)g)->data == NULL) {
            PyErr_Format(PyExc_TypeError, "walk: root gradient %zd must be an initialised "
                         "Tensor, got %s", i, Py_TYPE(g)->tp_name);
            return -1;
        }
    }
    return 0;
}

/* A node's next_edges and input_meta as lists or tuples (new references), checked: Python
 * code may have replaced them (their lengths are compared once the rule ran, as in engine.py's
 * `_run_ops`). The items are re-read per input (`item_at`). */
static int
node_lists(FunctionObject *node, PyObject **edges, PyObject **meta)
{
    const char *op = Py_TYPE(node)->tp_name;
    const char *missing = node->next_edges == NULL ? "next_edges" :
                          node->backend == NULL ? "backend" :
                          node->input_meta == NULL ? "input_meta" : NULL;
    *edges = *meta = NULL;
    if (missing != NULL) {
        PyErr_Format(PyExc_AttributeError, "backward: '%s' object has no attribute '%s' (only "
                     "apply makes graph nodes)", op, missing);
        return -1;
    }
    *edges = PySequence_Fast(node->next_edges, "");
    if (*edges == NULL) {
        PyErr_Format(PyExc_TypeError, "backward: %s's next_edges must be a list, got %s", op,
                     Py_TYPE(node->next_edges)->tp_name);
        return -1;
    }
    *meta = PySequence_Fast(node->input_meta, "");
    if (*meta == NULL) {
        PyErr_Format(PyExc_TypeError, "backward: %s's input_meta must be a list, got %s", op,
                     Py_TYPE(node->input_meta)->tp_name);
        return -1;
    }
    return 0;
}

/* Item k of a list or tuple (a new reference), or NULL with RuntimeError if a list shrank
 * since its length was read (Python code ran in between). */
static PyObject *
item_at(PyObject *seq, Py_ssize_t k, FunctionObject *node)
{
    if (k >= PySequence_Fast_GET_SIZE(seq)) {
        PyErr_Format(PyExc_RuntimeError, "backward: %s's next_edges or input_meta changed "
                     "during backward", Py_TYPE(node)->tp_name);
        return NULL;
    }
    return Py_NewRef(PySequence_Fast_GET_ITEM(seq, k));
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
    PyObject *roots = NULL, *root_grads = NULL, *pending = NULL, *leaves = NULL;
    PyObject *handed = NULL;
    PyObject *result = NULL, *current = NULL;
    FunctionObject *following = NULL, *node = NULL;
    PyObject *g = NULL, *grads = NULL, *edges = NULL, *meta = NULL, *array_type = NULL;
    PyObject *gx = NULL, *edge = NULL, *m = NULL, *backend = NULL;
    Heap heap = {NULL, 0, 0};
    Py_ssize_t i, n;
    int retain;

    if (!K.ready) {
        raise_not_ready();
        return NULL;
    }
    if (nargs != 3 || !PyList_Check(args[0]) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "walk(roots: list, root_grads: list, retain: bool)");
        return NULL;
    }
    retain = PyObject_IsTrue(args[2]);
    if (retain < 0)
        return NULL;
    /* Copies: the lists may change while Python code (an array's +) runs below. */
    roots = PyList_AsTuple(args[0]);
    root_grads = PyList_AsTuple(args[1]);
    if (roots == NULL || root_grads == NULL || check_roots(roots, root_grads) < 0)
        goto done;
    pending = PyDict_New();
    leaves = PyList_New(0);
    handed = PyDict_New();
    if (pending == NULL || leaves == NULL || handed == NULL)
        goto done;
    n = PyTuple_GET_SIZE(roots);
    for (i = 0; i < n; i++) {
        PyObject *root = PyTuple_GET_ITEM(roots, i), *held, *rg;
        int failed;
        rg = ((TensorObject *)PyTuple_GET_ITEM(root_grads, i))->data;
        if (rg == NULL) {  /* `del t.array` by code run in an earlier iteration */
            PyErr_SetString(PyExc_RuntimeError, "walk: a root gradient lost its array");
            goto done;
        }
        Py_INCREF(rg);  /* held: hashing a root or adding arrays may run Python code */
        held = PyDict_GetItemWithError(pending, root);
        if (held != NULL) {
            PyObject *sum = PyNumber_Add(held, rg);
            failed = sum == NULL || PyDict_SetItem(pending, root, sum) < 0;
            Py_XDECREF(sum);
            Py_DECREF(rg);
            if (failed)
                goto done;
            continue;
        }
        failed = PyErr_Occurred() || PyDict_SetItem(pending, root, rg) < 0;
        Py_DECREF(rg);
        if (failed)
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
        if (hand(handed, ((TensorObject *)PyTuple_GET_ITEM(root_grads, i))->data, 2) < 0)
            goto done;
    }

    while (following != NULL || heap.n > 0) {
        Py_ssize_t nedges, k;
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
        if (node_lists(node, &edges, &meta) < 0)
            goto done;
        nedges = PySequence_Fast_GET_SIZE(edges);
        backend = Py_NewRef(node->backend);  /* held: the rule may change the node */
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
                if (backend != current)
                    set_raw(&current, backend);
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
                                 "%S.backward returned %zd gradients for %zd inputs", name,
                                 PyTuple_GET_SIZE(grads), nedges);
                    Py_DECREF(name);
                }
                goto done;
            }
            if (!retain && !IS_NONE(node->saved))
                Py_XSETREF(node->saved, Py_NewRef(K.freed));
        }
        array_type = PyObject_GetAttr(backend, K.s_array_type);
        if (array_type == NULL)
            goto done;
        if (PySequence_Fast_GET_SIZE(meta) != nedges) {
            PyErr_Format(PyExc_ValueError, "backward: %s's input_meta has %zd entries for %zd "
                         "next_edges", Py_TYPE(node)->tp_name, PySequence_Fast_GET_SIZE(meta),
                         nedges);
            goto done;
        }
        for (k = 0; k < nedges; k++) {
            PyObject *held;
            int is_op;
            Py_CLEAR(edge);
            Py_CLEAR(m);
            if ((edge = item_at(edges, k, node)) == NULL)
                goto done;
            if (edge == Py_None)
                continue;
            gx = Py_NewRef(grads == NULL ? Py_None : PyTuple_GET_ITEM(grads, k));
            if (gx != Py_None) {
                int ok;
                if ((m = item_at(meta, k, node)) == NULL)
                    goto done;
                if (!PyTuple_Check(m) || PyTuple_GET_SIZE(m) != 2) {
                    PyErr_Format(PyExc_TypeError, "backward: %s's input_meta[%zd] must be a "
                                 "(shape, dtype) pair, got %s", Py_TYPE(node)->tp_name, k,
                                 Py_TYPE(m)->tp_name);
                    goto done;
                }
                ok = fits(gx, m, array_type);
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
                    if (op->key <= node->key) {
                        /* A producer is always recorded before its consumers (a higher key):
                         * anything else is a cycle, which would never end. */
                        PyErr_Format(PyExc_RuntimeError,
                                     "backward: %s leads back to %s, recorded after it: the "
                                     "graph has a cycle or its _key was changed",
                                     Py_TYPE(node)->tp_name, Py_TYPE(op)->tp_name);
                        goto done;
                    }
                    if (op->key - 1 == node->key) {
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
        Py_CLEAR(edge);
        Py_CLEAR(m);
        Py_CLEAR(array_type);
        Py_CLEAR(grads);
        Py_CLEAR(edges);
        Py_CLEAR(meta);
        Py_CLEAR(backend);
        Py_CLEAR(g);
        Py_CLEAR(node);
    }
    result = PyTuple_Pack(3, leaves, pending, handed);
done:
    set_raw(&current, NULL);
    Py_XDECREF(gx);
    Py_XDECREF(edge);
    Py_XDECREF(m);
    Py_XDECREF(array_type);
    Py_XDECREF(grads);
    Py_XDECREF(edges);
    Py_XDECREF(meta);
    Py_XDECREF(backend);
    Py_XDECREF(g);
    Py_XDECREF(node);
    Py_XDECREF(following);
    heap_clear(&heap);
    Py_XDECREF(roots);
    Py_XDECREF(root_grads);
    Py_XDECREF(pending);
    Py_XDECREF(leaves);
    Py_XDECREF(handed);
    return result;
}
