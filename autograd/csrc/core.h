/* core.h: what the files of autograd._ccore share (see module.c for what the core is).
 *
 * The Tensor and graph-node objects' C layout, the references `configure` hands over, the
 * interned attribute names, and the thread-local grad mode. No NumPy or CuPy header: arrays
 * are reached through the Python protocols only, so the same code serves every backend.
 */
#ifndef KEDJA_CORE_H
#define KEDJA_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif

/* Bumped whenever the Python side's expectations of this module change (see _native.py). */
#define CORE_ABI 3
/* setup.py passes the sha256 prefix of the sources, so that a stale build is recognised. */
#ifndef CORE_SOURCE_HASH
#define CORE_SOURCE_HASH "unknown"
#endif

#define IS_NONE(o) ((o) == NULL || (o) == Py_None)
#define OR_NONE(o) ((o) == NULL ? Py_None : (o))

/* ---- the objects ----------------------------------------------------------------------- */
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

extern PyTypeObject TensorBaseType, FunctionBaseType, GradStateType;
#define TENSOR_CHECK(o) PyObject_TypeCheck((o), &TensorBaseType)
#define FUNCTION_CHECK(o) PyObject_TypeCheck((o), &FunctionBaseType)

/* ---- shared references (module.c) ------------------------------------------------------- */
typedef struct {
    /* handed over by `configure`: Python classes, sentinels, slow-path helpers */
    PyTypeObject *tensor_type;         /* autograd.tensor.Tensor */
    PyObject *freed, *plain, *output;  /* function_base.py's sentinels */
    PyObject *default_backend;         /* () -> Backend */
    PyObject *reraise;                 /* (cls, inputs, error): raises with the op's context */
    PyObject *device_mismatch;         /* (cls, inputs): raises */
    PyObject *scoped_forward;          /* (fn, datas): forward inside backend.device_scope() */
    PyObject *lift;                    /* (other, like): an operand for an op with `like` */
    PyObject *op_add, *op_sub, *op_mul, *op_div, *op_neg;
    PyObject *promote;                 /* (op, a, b): an operator with PyTorch's type promotion */
    PyObject *floating;                /* tuple: the dtypes the operators know as floating */
    PyObject *observe;                 /* (node, g, raw, create, captured, handed) */
    PyObject *tensor_rule;             /* (node, g): a Tensor rule's gradients as arrays */
    PyObject *fit_raw;                 /* (gx, shape, dtype, node) */
    PyObject *grad_error;              /* (tensor, value): raises for a bad `.grad` */
    PyObject *anomaly_record;          /* (fn): keeps the forward stack (anomaly mode) */
    PyObject *complex_dtypes;          /* tuple: dtypes no recorded op may take or make */
    PyObject *refuse_complex;          /* (cls, inputs, out): raises (no complex gradients) */
    /* made at import */
    PyObject *s_forward, *s_backward, *s_xp, *s_array_type, *s_asarray, *s_shape, *s_dtype;
    PyObject *s_needs_device_scope, *s_is_view, *s_raw_backward, *s_raise_modified, *s_name;
    PyObject *needs_1, *needs_tt, *needs_tf, *needs_ft;  /* shared needs_input_grad tuples */
    PyObject *plain_source, *constant_source;  /* (_PLAIN, None, 0), (None, None, 0) */
    PyObject *zero;
    /* Creation numbers, counting down: a consumer always has a lower key than its inputs'
     * producers, so the walk's min-heap runs consumers first. */
    long long next_key;
    /* Whether every reference above that the core calls or compares with was configured. */
    int ready;
} CoreRefs;

extern CoreRefs K;

/* ---- the grad mode, per thread (grad_state.c) ------------------------------------------- */
extern THREAD_LOCAL int tls_disabled;        /* 0: recording on, every new thread's default */
extern THREAD_LOCAL PyObject *tls_raw;       /* the backend raw rules run on, or NULL */
extern THREAD_LOCAL PyObject *tls_captured;  /* autograd.grad's capture dict, or NULL */
void set_slot(PyObject **slot, PyObject *value);

/* ---- anomaly mode, process-wide as in PyTorch (apply.c; set by anomaly_mode.py) --------- */
extern int anomaly_mode;

/* ---- checks of what Python code may have changed ---------------------------------------- */
/* The core's fields are writable from Python (`t._version = ...`, `node.input_meta = ...`),
 * so whatever C indexes without a check is checked first: these cost a compare or two. */

/* Raises RuntimeError unless the core was configured (autograd's import does it): test
 * `K.ready` first, this is the error. */
int raise_not_ready(void);

/* Whether `box` is a version counter: a list holding the count (Tensor._version). */
static inline int
version_box_ok(PyObject *box)
{
    return box != NULL && PyList_Check(box) && PyList_GET_SIZE(box) > 0;
}

/* Raises for a `box` that is not a version counter, naming `op`, as the Python reference's
 * `box[0]` would: TypeError, IndexError for an empty list, AttributeError for none. -1. */
int raise_bad_version_box(PyObject *box, const char *op);

/* Whether Tensor `t` has the fields every op reads (its class's __init__ may never have
 * called Tensor.__init__, leaving them unset). */
#define TENSOR_READY(t) (((TensorObject *)(t))->data != NULL && \
                         ((TensorObject *)(t))->backend != NULL)

/* Raises AttributeError for input `index` of `op`, a Tensor that was never initialised. */
int raise_uninitialised(PyObject *t, Py_ssize_t index, const char *op);

/* ---- across files ----------------------------------------------------------------------- */
/* `array.shape` / `array.dtype` (new references, NULL with an error set), through the array
 * type's C getter where it has one (attrs.c). */
PyObject *array_shape(PyObject *array);
PyObject *array_dtype(PyObject *array);
PyObject *make_tensor(PyTypeObject *type, PyObject *data, PyObject *backend, PyObject *version);
PyObject *apply_op(PyTypeObject *cls, PyObject *const *args, Py_ssize_t n, PyObject *kwnames);
int class_flag(PyTypeObject *cls, PyObject *name);
PyObject *core_walk(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
