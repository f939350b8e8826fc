"""Eight float64 lanes as one value, for the propagation kernel's SIMD arithmetic.

The kernel computes eight draws side by side (:data:`LANES`). numba keeps LLVM's SLP
vectoriser off (it miscompiled, numba PR #8852), and the loop vectoriser never sees the
lane loops (LLVM unrolls an eight-iteration loop first), so written as loops the lanes
run as scalar code, each value going through memory. Here a lane vector is one LLVM
``<8 x double>`` value: arithmetic on it compiles to AVX instructions, and it lives
in registers between operations.

Every operation is the IEEE operation of each lane on its own (no fused multiply-add,
no reassociation), so a lane's result is bit-identical to the scalar code it replaces.

Use inside ``numba.njit`` code only::

    drive = load(drive_rows[r]) + ramp * weight   # lanes + lanes * float
    store(drive_rows[r], drive)
"""

from __future__ import annotations

import operator

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

__all__ = [
    "LANES",
    "broadcast",
    "clip",
    "load",
    "load_transposed",
    "store",
    "store_products_transposed",
]

LANES = 8


class LanesType(types.Type):
    """numba type of eight float64 lanes (an LLVM ``<8 x double>`` value)."""

    def __init__(self) -> None:
        super().__init__(name="Lanes8Float64")


lanes = LanesType()
_vector = ir.VectorType(ir.DoubleType(), LANES)


@register_model(LanesType)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _vector)


def _is_row(typ) -> bool:
    return isinstance(typ, types.Array) and typ.ndim == 1 and typ.dtype == types.float64


def _row_pointer(context, builder, row_type, row):
    """Pointer to the first element of a 1-D float64 array, as ``<8 x double>*``."""
    data = context.make_array(row_type)(context, builder, value=row).data
    return builder.bitcast(data, _vector.as_pointer())


@intrinsic
def load(typingctx, row):
    """The first :data:`LANES` values of a 1-D float64 array (contiguous, not checked)."""
    if not _is_row(row):
        return None

    def codegen(context, builder, signature, args):
        return builder.load(_row_pointer(context, builder, signature.args[0], args[0]), align=8)

    return lanes(row), codegen


@intrinsic
def store(typingctx, row, value):
    """Write a lane vector into the first :data:`LANES` values of a 1-D float64 array."""
    if not (_is_row(row) and value == lanes):
        return None

    def codegen(context, builder, signature, args):
        pointer = _row_pointer(context, builder, signature.args[0], args[0])
        builder.store(args[1], pointer, align=8)
        return context.get_dummy_value()

    return types.void(row, value), codegen


def _as_vector(context, builder, typ, value):
    """A lane vector, or a float broadcast to every lane."""
    if typ == lanes:
        return value
    scalar = context.cast(builder, value, typ, types.float64)
    single = builder.insert_element(
        ir.Constant(_vector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0)
    )
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(single, ir.Constant(_vector, ir.Undefined), zeros)


@intrinsic
def broadcast(typingctx, value):
    """A lane vector with ``value`` in every lane."""
    if not isinstance(value, types.Float):
        return None

    def codegen(context, builder, signature, args):
        return _as_vector(context, builder, signature.args[0], args[0])

    return lanes(value), codegen


def _operand(typ) -> bool:
    return typ == lanes or isinstance(typ, types.Float)


def _binary_intrinsic(instruction: str):
    @intrinsic
    def binary(typingctx, a, b):
        if not (_operand(a) and _operand(b) and lanes in (a, b)):
            return None

        def codegen(context, builder, signature, args):
            x, y = (
                _as_vector(context, builder, typ, value)
                for typ, value in zip(signature.args, args, strict=True)
            )
            return getattr(builder, instruction)(x, y)

        return lanes(a, b), codegen

    return binary


def _register_operator(python_operator, instruction: str) -> None:
    binary = _binary_intrinsic(instruction)

    @overload(python_operator)
    def _lanes_operator(a, b):
        if lanes in (a, b) and _operand(a) and _operand(b):
            return lambda a, b: binary(a, b)
        return None


# a lane vector is a value, so ``x += y`` is ``x = x + y``
for _operators, _instruction in (
    ((operator.add, operator.iadd), "fadd"),
    ((operator.sub, operator.isub), "fsub"),
    ((operator.mul, operator.imul), "fmul"),
    ((operator.truediv, operator.itruediv), "fdiv"),
):
    for _operator in _operators:
        _register_operator(_operator, _instruction)


@intrinsic
def clip(typingctx, value, low, high):
    """``min(max(value, low), high)`` of each lane, with numba's ``min``/``max`` rules
    (a NaN lane stays NaN; ``max(-0.0, 0.0)`` is ``-0.0``), so identical to scalar code."""
    if not (value == lanes and isinstance(low, types.Float) and isinstance(high, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        x = args[0]
        low, high = (
            _as_vector(context, builder, typ, v)
            for typ, v in zip(signature.args[1:], args[1:], strict=True)
        )
        # numba's max(a, b) is select(b > a, b, a); min(a, b) is select(b < a, b, a)
        raised = builder.select(builder.fcmp_ordered(">", low, x), low, x)
        return builder.select(builder.fcmp_ordered("<", high, raised), high, raised)

    return lanes(value, low, high), codegen


def _shuffle(builder, first, second, mask):
    indices = ir.Constant(ir.VectorType(ir.IntType(32), len(mask)), list(mask))
    return builder.shuffle_vector(first, second, indices)


def _transpose_8x8(builder, rows):
    """Transpose eight eight-element vectors (interleave singles, then pairs, then halves)."""
    pairs = []
    for i in range(0, 8, 2):
        pairs.append(_shuffle(builder, rows[i], rows[i + 1], [0, 8, 1, 9, 4, 12, 5, 13]))
        pairs.append(_shuffle(builder, rows[i], rows[i + 1], [2, 10, 3, 11, 6, 14, 7, 15]))
    low, high = [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]
    quads = []
    for first, second in ((0, 2), (1, 3), (4, 6), (5, 7)):
        quads.append(_shuffle(builder, pairs[first], pairs[second], low))
        quads.append(_shuffle(builder, pairs[first], pairs[second], high))
    columns = [None] * 8
    for i in range(4):
        columns[i] = _shuffle(builder, quads[i], quads[i + 4], [0, 1, 2, 3, 8, 9, 10, 11])
        columns[i + 4] = _shuffle(builder, quads[i], quads[i + 4], [4, 5, 6, 7, 12, 13, 14, 15])
    return columns


def _item_pointer(context, builder, array, array_type, indices):
    """Pointer to ``array[indices]`` (an array made by ``context.make_array``)."""
    return cgutils.get_item_pointer2(
        context,
        builder,
        array.data,
        cgutils.unpack_tuple(builder, array.shape),
        cgutils.unpack_tuple(builder, array.strides),
        array_type.layout,
        indices,
    )


@intrinsic
def store_products_transposed(
    typingctx, out, first_row, first_cell, values, shares, value_of, share_of
):
    """Eight cells of eight rows of ``out``, as products of lane vectors.

    For cell ``f = first_cell + i`` (``i < 8``) and lane ``l``::

        out[first_row + l, f] = values[value_of[f], l] * shares[share_of[f], l]

    rounded to ``out``'s type. The eight products of a cell are computed as one
    vector, the 8 x 8 block is transposed in registers, and each row's eight cells
    are stored with one instruction, instead of 64 scalar stores to eight rows.

    Parameters
    ----------
    out : float32 or float64 array, shape (rows, cells), C-contiguous
    first_row, first_cell : int
    values, shares : float64 arrays, shape (n, LANES), C-contiguous
    value_of, share_of : int64 arrays, shape (cells,)
        Row of ``values`` and of ``shares`` that each cell multiplies.

    Nothing is bounds-checked: ``first_row + 8`` and ``first_cell + 8`` must be in
    range.
    """
    if not (
        isinstance(out, types.Array)
        and out.ndim == 2
        and out.dtype in (types.float32, types.float64)
        and all(
            isinstance(a, types.Array) and a.ndim == 2 and a.dtype == types.float64
            for a in (values, shares)
        )
        and all(
            isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.int64
            for a in (value_of, share_of)
        )
        and all(isinstance(i, types.Integer) for i in (first_row, first_cell))
    ):
        return None
    signature = types.void(out, first_row, first_cell, values, shares, value_of, share_of)

    def codegen(context, builder, sig, args):
        out_type, row_type, cell_type, values_type, shares_type, table_type, _ = sig.args
        out_array = context.make_array(out_type)(context, builder, value=args[0])
        first_row = context.cast(builder, args[1], row_type, types.intp)
        first_cell = context.cast(builder, args[2], cell_type, types.intp)
        value_array = context.make_array(values_type)(context, builder, value=args[3])
        share_array = context.make_array(shares_type)(context, builder, value=args[4])
        value_table = context.make_array(table_type)(context, builder, value=args[5])
        share_table = context.make_array(table_type)(context, builder, value=args[6])
        intp = context.get_value_type(types.intp)
        element_type = context.get_value_type(out_type.dtype)
        out_vector = ir.VectorType(element_type, LANES)

        def item_pointer(array, array_type, indices):
            return _item_pointer(context, builder, array, array_type, indices)

        def lane_row(array, array_type, table, cell):
            index = builder.load(item_pointer(table, table_type, [cell]))
            element = item_pointer(array, array_type, [index, ir.Constant(intp, 0)])
            return builder.load(builder.bitcast(element, _vector.as_pointer()), align=8)

        rows = []
        for i in range(LANES):
            cell = builder.add(first_cell, ir.Constant(intp, i))
            product = builder.fmul(
                lane_row(value_array, values_type, value_table, cell),
                lane_row(share_array, shares_type, share_table, cell),
            )
            if out_type.dtype == types.float32:
                product = builder.fptrunc(product, out_vector)
            rows.append(product)
        alignment = out_type.dtype.bitwidth // 8
        for lane, column in enumerate(_transpose_8x8(builder, rows)):
            row = builder.add(first_row, ir.Constant(intp, lane))
            element = item_pointer(out_array, out_type, [row, first_cell])
            builder.store(
                column, builder.bitcast(element, out_vector.as_pointer()), align=alignment
            )
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def load_transposed(typingctx, rows, first_row, source, first_draw, first_cell):
    """Eight lane rows from an 8 x 8 block of ``source``, draws by cells.

    For ``i < 8`` and lane ``l``::

        rows[first_row + i, l] = source[first_draw + l, first_cell + i]

    float32 values widened to float64 (exactly). Each draw's eight cells are loaded with
    one instruction and the block transposed in registers, instead of 64 scalar copies
    (the inverse of :func:`store_products_transposed`).

    Parameters
    ----------
    rows : float64 array, shape (n, LANES), C-contiguous
    first_row : int
    source : float32 or float64 array, shape (draws, cells), C-contiguous
    first_draw, first_cell : int

    Nothing is bounds-checked: ``first_row + 8``, ``first_draw + 8`` and
    ``first_cell + 8`` must be in range.
    """
    if not (
        isinstance(rows, types.Array)
        and rows.ndim == 2
        and rows.dtype == types.float64
        and isinstance(source, types.Array)
        and source.ndim == 2
        and source.dtype in (types.float32, types.float64)
        and all(isinstance(i, types.Integer) for i in (first_row, first_draw, first_cell))
    ):
        return None
    signature = types.void(rows, first_row, source, first_draw, first_cell)

    def codegen(context, builder, sig, args):
        rows_type, row_type, source_type, draw_type, cell_type = sig.args
        rows_array = context.make_array(rows_type)(context, builder, value=args[0])
        source_array = context.make_array(source_type)(context, builder, value=args[2])
        first_row = context.cast(builder, args[1], row_type, types.intp)
        first_draw = context.cast(builder, args[3], draw_type, types.intp)
        first_cell = context.cast(builder, args[4], cell_type, types.intp)
        intp = context.get_value_type(types.intp)
        element_type = context.get_value_type(source_type.dtype)
        source_vector = ir.VectorType(element_type, LANES)

        def item_pointer(array, array_type, indices):
            return _item_pointer(context, builder, array, array_type, indices)

        draws = []
        for lane in range(LANES):
            draw = builder.add(first_draw, ir.Constant(intp, lane))
            element = item_pointer(source_array, source_type, [draw, first_cell])
            pointer = builder.bitcast(element, source_vector.as_pointer())
            values = builder.load(pointer, align=source_type.dtype.bitwidth // 8)
            if source_type.dtype == types.float32:
                values = builder.fpext(values, _vector)
            draws.append(values)
        for i, cell in enumerate(_transpose_8x8(builder, draws)):
            row = builder.add(first_row, ir.Constant(intp, i))
            element = item_pointer(rows_array, rows_type, [row, ir.Constant(intp, 0)])
            builder.store(cell, builder.bitcast(element, _vector.as_pointer()), align=8)
        return context.get_dummy_value()

    return signature, codegen
