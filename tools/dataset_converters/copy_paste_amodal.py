"""Make amodal training images by copy-paste (paper 4.1 and 4.3, "amodal aug" / "modal aug").

    # D2S amodal modal augmented (Table 6): modal annotations of D2S training only
    python tools/dataset_converters/copy_paste_amodal.py data/d2s/annotations/D2S_training.json \\
        --img-dir data/d2s/images --mode modal --num-images 2000 \\
        --out-ann data/d2s_amodal/annotations/train_modal-aug.json \\
        --out-img-dir data/d2s_amodal/images_modal-aug

Objects cut from other images are pasted onto a random source image in a random depth order;
amodal, visible and invisible masks of pasted and covered objects follow exactly. ``--mode
amodal`` reads a canonical amodal file and pastes unoccluded objects; ``--mode modal`` reads any
COCO instance file and pastes objects whose outline is known (touching no other instance).
"""
import argparse

from mmorcnn.datasets.converters import write_and_summarize
from mmorcnn.datasets.copy_paste import CopyPasteSettings, generate_copy_paste


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate amodal training images by pasting objects from other images of '
        'a dataset, in a random depth order, with exact amodal/visible/invisible masks.')
    parser.add_argument('src', help='source annotations: canonical amodal (--mode amodal) or '
                        'any COCO instance file (--mode modal)')
    parser.add_argument('--img-dir', required=True, help='folder of the source images')
    parser.add_argument('--out-ann', required=True, help='output annotation file')
    parser.add_argument('--out-img-dir', required=True, help='output image folder')
    parser.add_argument('--mode', choices=('amodal', 'modal'), default='amodal',
                        help='amodal: background objects keep their amodal masks, unoccluded '
                        'objects are pasted; modal: only modal masks are used (default: amodal)')
    parser.add_argument('--num-images', type=int, default=100,
                        help='images to generate (default: 100)')
    parser.add_argument('--objects-per-image', type=int, nargs=2, default=(1, 4),
                        metavar=('MIN', 'MAX'),
                        help='objects pasted per image, drawn uniformly (default: 1 4)')
    parser.add_argument('--allow-border-objects', action='store_true',
                        help='also paste objects that touch the border of their image '
                        '(default: skip them, as the paper does)')
    parser.add_argument('--max-occlusion', type=float, default=0.9,
                        help='redraw a placement that leaves an object more occluded than '
                        'this share of its amodal area (default: 0.9)')
    parser.add_argument('--min-area', type=int, default=64,
                        help='smallest area in pixels of a pasted object (default: 64)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument('--on-error', choices=('raise', 'skip'), default='raise',
                        help='stop at the first malformed source annotation (default) or skip')
    args = parser.parse_args(argv)
    if args.num_images < 0:
        parser.error('--num-images must be >= 0')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    settings = CopyPasteSettings(
        mode=args.mode, num_images=args.num_images,
        objects_per_image=tuple(args.objects_per_image),
        skip_border=not args.allow_border_objects, max_occlusion=args.max_occlusion,
        min_area=args.min_area, seed=args.seed)
    dataset, skipped, num_pasted = generate_copy_paste(
        args.src, args.img_dir, args.out_img_dir, settings, on_error=args.on_error,
        progress=True)
    print(f'\n{len(dataset["images"])} images written to {args.out_img_dir}')
    write_and_summarize(dataset, skipped, args.out_ann,
                        extra_rows=[('pasted objects', num_pasted)])


if __name__ == '__main__':
    main()
