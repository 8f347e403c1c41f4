"""mmorcnn's errors about what it reads: one family under :class:`AmodalError`.

Every class is a ``ValueError``, so ``except ValueError`` keeps catching them. The errors about
an item of a file (:class:`AmodalAnnotationError`, :class:`AmodalResultsError`) name the file
and the item's ids in their message; :class:`FormatError` (and :class:`MaskFormatError`) say
only what is wrong, and the caller that knows where wraps them into one of those.
"""
import sys
from typing import Any, Callable, Sequence, Tuple


class AmodalError(ValueError):
    """Base of mmorcnn's errors about its inputs (annotation files, results files, masks,
    checkpoints, ONNX files)."""


def exit_on_bad_input(main: Callable[[], Any]) -> Any:
    """Run a tool's ``main``; an :class:`AmodalError` (a bad input, named with its file and
    record) ends the process with its name and message and exit status 1, no traceback.

    Returns:
        What ``main`` returns (for ``sys.exit``).
    """
    try:
        return main()
    except AmodalError as e:
        sys.exit(f'{type(e).__name__}: {e}')


class FormatError(AmodalError):
    """A value read from a file that does not have the form it must have.

    The message says what is wrong; the caller wraps it into an error that also says where
    (:class:`AmodalAnnotationError`, :class:`AmodalResultsError`).
    """


class MaskFormatError(FormatError):
    """A segmentation that cannot be decoded safely; the message says why."""


class SoftMaskError(AmodalError):
    """Soft (grey-level) masks where binary masks are needed, e.g. for RLE encoding."""


def located_message(path: str, where: Sequence[Tuple[str, Any]], reason: str) -> str:
    """``'path: image 3, annotation 7: reason'``: the message of an error about an item of a
    file; ``where`` lists ``(name, value)`` pairs, those with value ``None`` left out."""
    named = ', '.join(f'{name} {value}' for name, value in where if value is not None)
    return ': '.join([str(path)] + [named] * bool(named) + [reason])


class FileItemError(AmodalError):
    """An item of a file that is wrong: the message names the file, the item's two ids (each
    left out when ``None``) and what is wrong.

    A subclass names its attributes (``FIELDS``: the file, the first id, the second id) and the
    ids' words in the message (``ID_NAMES``).

    Args:
        path (str): The file.
        first: The first id (None: not known, or a problem of the whole file).
        second: The second id (None: not known, or a problem of the first item).
        reason (str): What is wrong.
    """
    FIELDS: Tuple[str, str, str] = ('path', 'first', 'second')
    ID_NAMES: Tuple[str, str] = ('item', 'part')

    def __init__(self, path: str, first, second, reason: str) -> None:
        for name, value in zip(self.FIELDS, (path, first, second)):
            setattr(self, name, value)
        self.reason = reason
        super().__init__(located_message(path, list(zip(self.ID_NAMES, (first, second))),
                                         reason))

    def __reduce__(self):  # keep the attributes when sent between processes
        return type(self), (*(getattr(self, name) for name in self.FIELDS), self.reason)


class AmodalAnnotationError(FileItemError):
    """An annotation (or annotation file) that does not follow the canonical amodal format.

    The message names the annotation file, the image id and the annotation id (each left out
    when ``None``: a problem of the file, or of an image record) and what is wrong.

    Args:
        ann_file (str): The annotation file that holds the annotation.
        image_id: Id of the image the annotation belongs to.
        ann_id: Id of the annotation, ``None`` for an image-level problem.
        reason (str): What is wrong with it.
    """
    FIELDS = ('ann_file', 'image_id', 'ann_id')
    ID_NAMES = ('image', 'annotation')


class AmodalResultsError(FileItemError):
    """A results file (or results entry) that does not follow the schema of
    :mod:`mmorcnn.evaluation.functional.amodal_results`.

    The message names the results file, the entry index and its image id (each left out when
    ``None``: a problem of the whole file) and what is wrong.

    Args:
        results_file (str): The results file.
        index (int, optional): Index of the entry in the file's list.
        image_id: Image id of the entry, if it has a usable one.
        reason (str): What is wrong.
    """
    FIELDS = ('results_file', 'index', 'image_id')
    ID_NAMES = ('entry', 'image')


class ExportError(AmodalError):
    """A model that cannot be exported to ONNX: the message names the config and the part of
    the model (head, operator, setting) the export has no ONNX form for."""


class OnnxModelError(AmodalError):
    """An ONNX file that is not the export of the model it is used for: the message names the
    file and what does not match (inputs, outputs, classes)."""


class ImageChannelError(AmodalError):
    """An image whose number of channels is not the three a model reads: the message names the
    image and its shape."""


class CheckpointConversionError(AmodalError):
    """A checkpoint that cannot be converted into the model of a config; the message names the
    checkpoint, the config and what is wrong, and says how to proceed where there is a way."""


class CheckpointKeysError(CheckpointConversionError):
    """The tensors of a checkpoint do not map one to one onto the model of a config.

    Every list names tensors, so a user sees at once which layers differ.

    Args:
        checkpoint (str): The source checkpoint.
        config (str): The config whose model the checkpoint was converted for.
        unmapped (list[str]): Source tensors no rule maps.
        unexpected (dict): ``{source name: target name}`` of source tensors whose target name the
            model does not have.
        missing (list[str]): Target tensors of the model that no source tensor fills.
        mismatched (dict): ``{target name: (source name, source shape, target shape)}`` of
            tensors whose shapes differ.
    """

    def __init__(self, checkpoint: str, config: str, unmapped, unexpected, missing,
                 mismatched) -> None:
        self.checkpoint, self.config = checkpoint, config
        self.unmapped = list(unmapped)
        self.unexpected = dict(unexpected)
        self.missing = list(missing)
        self.mismatched = dict(mismatched)
        lines = [f'{checkpoint} does not convert into the model of {config}:']
        if self.unmapped:
            lines.append(f'  source tensors no rule maps ({len(self.unmapped)}): '
                         + ', '.join(self.unmapped))
        if self.unexpected:
            lines.append(f'  source tensors whose target the model lacks '
                         f'({len(self.unexpected)}): '
                         + ', '.join(f'{s} -> {d}' for s, d in self.unexpected.items()))
        if self.missing:
            lines.append(f'  model tensors no source tensor fills ({len(self.missing)}): '
                         + ', '.join(self.missing))
        if self.mismatched:
            lines.append(f'  shapes that differ ({len(self.mismatched)}): ' + ', '.join(
                f'{src} {tuple(s)} -> {dst} {tuple(d)}'
                for dst, (src, s, d) in self.mismatched.items()))
        super().__init__('\n'.join(lines))

    def __reduce__(self):
        return type(self), (self.checkpoint, self.config, self.unmapped, self.unexpected,
                            self.missing, self.mismatched)


class ClassMappingError(CheckpointConversionError):
    """The classes of a checkpoint cannot be matched with the classes of a config: the counts
    differ and no class names say which is which, or a class of the config is not among the
    checkpoint's. The message says how to name them."""


class PreprocessingMismatchError(CheckpointConversionError):
    """A config whose input preprocessing differs from the one the checkpoint's backbone was
    trained with (for Detectron2's MSRA backbones: caffe-style, BGR, Detectron2's pixel mean and
    a standard deviation of 1); the message names each setting and its required value."""
