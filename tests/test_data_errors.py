"Bad input to the data loaders: each case fails with a DataError that names the file, line or argument."
import re
import numpy as np
import pytest
from rtml.data import DataError, load_lfw, load_identity_folder, read_pairs, read_people, make_protocol, FaceData


def load(root, **kw):
    return load_lfw(root, size=24, crop=None, verify=False, progress=False, **kw)


def edit_line(path, index, change):
    "Rewrite line `index` (0-based) of a protocol file as `change(old_line)`; returns the old line."
    lines = path.read_text().splitlines()
    old, lines[index] = lines[index], change(lines[index])
    path.write_text('\n'.join(lines) + '\n')
    return old


def test_a_good_copy_loads(tiny_lfw, tiny_faces):
    data = load(tiny_lfw)
    assert data.names == tiny_faces.names and len(data) == len(tiny_faces)
    assert len(data.view2_pairs()) == len(tiny_faces.view2_pairs())


def test_missing_folder_says_what_to_place(tmp_path):
    with pytest.raises(DataError, match='does not exist') as e: load(tmp_path / 'nowhere')
    assert 'lfw-deepfunneled/<Person_Name>/<Person_Name>_0001.jpg' in str(e.value)


def test_folder_without_images(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DataError, match='no LFW image folder'): load(tmp_path / 'empty')


def test_missing_protocol_file_names_it(tiny_lfw):
    (tiny_lfw / 'people.txt').unlink()
    data = load(tiny_lfw)
    data.view1()  # View 1 needs no people.txt
    with pytest.raises(DataError, match=r'people\.txt is missing: place LFW.s official people\.txt in .*lfw-copy'):
        data.view2()


def test_md5_mismatch(tiny_lfw):
    with pytest.raises(DataError, match=r'lfw-names\.txt: MD5 [0-9a-f]{32} is not the official a6d0a4'):
        load_lfw(tiny_lfw, size=24, crop=None, progress=False)


def test_malformed_line_names_file_and_line(tiny_lfw):
    edit_line(tiny_lfw / 'pairsDevTest.txt', 3, lambda l: l.split('\t')[0] + '\tthree\t2')
    with pytest.raises(DataError, match=r"pairsDevTest\.txt:4: expected a whole number, got 'three'"): load(tiny_lfw)


def test_wrong_kind_of_line(tiny_lfw):
    edit_line(tiny_lfw / 'pairs.txt', 1, lambda l: l + '\t1')
    with pytest.raises(DataError, match=r"pairs\.txt:2: expected 'name n1 n2' \(a same-person pair\)"): load(tiny_lfw)


def test_truncated_pairs_file(tiny_lfw):
    p = tiny_lfw / 'pairs.txt'
    p.write_text('\n'.join(p.read_text().splitlines()[:-3]) + '\n')
    with pytest.raises(DataError, match=r'pairs\.txt: the header promises 10 fold\(s\)'): load(tiny_lfw)


def test_pair_naming_a_missing_image(tiny_lfw, tiny_faces):
    name = edit_line(tiny_lfw / 'pairs.txt', 1, lambda l: l.split('\t')[0] + '\t1\t99').split('\t')[0]
    n = tiny_faces.protocol.counts[name]
    with pytest.raises(DataError, match=rf"pairs\.txt:2: {name} has {n} image\(s\), there is no image 99"): load(tiny_lfw)


def test_pair_naming_an_unknown_person(tiny_lfw):
    edit_line(tiny_lfw / 'pairsDevTrain.txt', 1, lambda l: "Nobody_At_All\t1\t2")
    with pytest.raises(DataError, match=r"pairsDevTrain\.txt:2: no person 'Nobody_At_All'"): load(tiny_lfw)


def test_people_file_naming_an_unknown_person(tiny_lfw):
    edit_line(tiny_lfw / 'peopleDevTest.txt', 2, lambda l: "Nobody_At_All\t3")
    with pytest.raises(DataError, match=r"peopleDevTest\.txt:3: no person 'Nobody_At_All'"): load(tiny_lfw)


def test_missing_image_file(tiny_lfw, tiny_faces):
    name = tiny_faces.names[3]
    (tiny_lfw / 'lfw' / name / f"{name}_0002.jpg").unlink()
    with pytest.raises(DataError, match=rf"missing image file .*{name}_0002\.jpg"): load(tiny_lfw)


def test_corrupt_jpegs_are_all_named(tiny_lfw, tiny_faces):
    bad = [tiny_lfw / 'lfw' / n / f"{n}_0001.jpg" for n in tiny_faces.names[:2]]
    bad[0].write_bytes(b'not a jpeg at all')
    bad[1].write_bytes(bad[1].read_bytes()[:200])  # truncated
    with pytest.raises(DataError, match=r'2 image\(s\) could not be decoded') as e: load(tiny_lfw)
    assert str(bad[0]) in str(e.value) and str(bad[1]) in str(e.value)


def test_failed_decode_leaves_no_cache_and_a_fixed_copy_loads(tiny_lfw, tiny_faces, tmp_path):
    img = tiny_lfw / 'lfw' / tiny_faces.names[0] / f"{tiny_faces.names[0]}_0001.jpg"
    good = img.read_bytes()
    img.write_bytes(b'garbage')
    with pytest.raises(DataError): load(tiny_lfw)
    assert not list((tmp_path / 'cache').glob('*.npy')) if (tmp_path / 'cache').exists() else True
    img.write_bytes(good)
    assert len(load(tiny_lfw)) == len(tiny_faces)
    assert len(list((tmp_path / 'cache').glob('faces-*.npy'))) == 1


def test_cache_is_reused_and_keyed_by_settings(tiny_lfw, tmp_path):
    a = load(tiny_lfw)
    b = load(tiny_lfw)
    np.testing.assert_array_equal(a.images, b.images)
    load_lfw(tiny_lfw, size=16, crop=None, verify=False, progress=False)
    assert len(list((tmp_path / 'cache').glob('faces-*.npy'))) == 2


def test_empty_datasets(tmp_path):
    (tmp_path / 'ids').mkdir()
    with pytest.raises(DataError, match='no person folder'): load_identity_folder(tmp_path / 'ids')
    with pytest.raises(DataError, match='no people given'): make_protocol({})
    (tmp_path / 'lfw' / 'lfw').mkdir(parents=True)
    with pytest.raises(DataError, match='no people found'): load(tmp_path / 'lfw')
    empty = tmp_path / 'pairs.txt'
    empty.write_text('\n')
    with pytest.raises(DataError, match=r'pairs\.txt: the file is empty'): read_pairs(empty)


def test_identity_folder_missing(tmp_path):
    with pytest.raises(DataError, match=r'identity folder .*nope does not exist: expected .*<person>/<image>'):
        load_identity_folder(tmp_path / 'nope')


def test_bad_protocol_argument(tiny_faces):
    with pytest.raises(DataError, match="protocol must be 'view1' or 'view2', got 'view3'"): tiny_faces.splits('view3')


@pytest.mark.parametrize('crop', [(0.5, 0.2, 0.4, 0.9), (0, 0, 1.5, 1), 'middle'])
def test_bad_crop_names_the_argument(tiny_lfw, crop):
    with pytest.raises(DataError, match='crop must'): load_lfw(tiny_lfw, crop=crop, verify=False, progress=False)
