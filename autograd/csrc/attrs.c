/* attrs.c: an array's `shape` and `dtype`, read through the array type's own C getter.
 *
 * NumPy's and CuPy's `shape` and `dtype` are C getters (getset descriptors of the array type).
 * Each is looked up once per array type and then called directly: the generic attribute lookup
 * (type MRO walk, descriptor call) costs several times more, and the core reads both for every
 * input of every recorded op and every gradient the walk hands on. Types whose attribute is
 * anything else (the fake device's properties, a subclass's override, a custom
 * `__getattribute__`) take the generic lookup, so the values read are always what
 * `array.shape` / `array.dtype` give in Python.
 */
#include "core.h"

typedef struct {
    PyTypeObject *owner;  /* a strong reference: the type `get` belongs to (NULL: none yet) */
    getter get;           /* NULL: the owner's attribute is not a plain C getter */
    void *closure;
} GetterCache;

static GetterCache shape_cache, dtype_cache;

static void
cache_getter(GetterCache *c, PyTypeObject *type, PyObject *name)
{
    PyObject *descr = _PyType_Lookup(type, name);  /* borrowed; no error raised */
    Py_XSETREF(c->owner, (PyTypeObject *)Py_NewRef(type));
    c->get = NULL;
    if (descr != NULL && Py_IS_TYPE(descr, &PyGetSetDescr_Type) &&
        type->tp_getattro == PyObject_GenericGetAttr &&
        ((PyGetSetDescrObject *)descr)->d_getset->get != NULL &&
        PyType_IsSubtype(type, PyDescr_TYPE(descr))) {
        c->get = ((PyGetSetDescrObject *)descr)->d_getset->get;
        c->closure = ((PyGetSetDescrObject *)descr)->d_getset->closure;
    }
}

static PyObject *
read_attr(GetterCache *c, PyObject *obj, PyObject *name)
{
    if (Py_TYPE(obj) != c->owner)
        cache_getter(c, Py_TYPE(obj), name);
    if (c->get != NULL)
        return c->get(obj, c->closure);
    return PyObject_GetAttr(obj, name);
}

PyObject *
array_shape(PyObject *array)
{
    return read_attr(&shape_cache, array, K.s_shape);
}

PyObject *
array_dtype(PyObject *array)
{
    return read_attr(&dtype_cache, array, K.s_dtype);
}
