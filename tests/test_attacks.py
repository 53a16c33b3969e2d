"The attacks' guarantees: budget, pixel range, and a model left exactly as it was."
import pytest
import torch
from rtml.attacks import dodging, embedding_shift, fgsm, impersonation, pgd
from rtml.models import ResNetEmbed


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    return ResNetEmbed(width=8, input_size=32)


@pytest.fixture
def x():
    return torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize('norm,eps', [('linf', 1 / 255), ('linf', 8 / 255), ('l2', 0.1), ('l2', 1.0)])
@pytest.mark.parametrize('random_start', [True, False])
@pytest.mark.parametrize('training', [True, False])
def test_budget_range_and_model_state(net, x, norm, eps, random_start, training):
    net.train(training)
    for p in net.parameters(): p.grad = torch.full_like(p, 0.5)
    flags = [p.requires_grad for p in net.parameters()]
    with torch.no_grad(): clean = net.eval()(x)
    net.train(training)
    buffers = {k: v.clone() for k, v in net.state_dict().items()}
    # dodging against another face: unlike the embedding shift, its gradient at the clean image is not zero
    xa = pgd(net, x, dodging(clean.roll(1, 0)), eps, steps=4, norm=norm, random_start=random_start)
    d = (xa - x).flatten(1)
    size = d.abs().max(1).values if norm == 'linf' else d.norm(dim=1)
    assert size.max() <= eps + 1e-6
    assert xa.min() >= 0 and xa.max() <= 1
    assert (xa != x).any()
    assert net.training == training
    assert [p.requires_grad for p in net.parameters()] == flags
    assert all(torch.equal(p.grad, torch.full_like(p, 0.5)) for p in net.parameters())
    # eval-mode attacks leave batch-norm statistics alone
    assert all(torch.equal(v, buffers[k]) for k, v in net.state_dict().items())
    for p in net.parameters(): p.grad = None


def test_embedding_shift_needs_a_random_start(net, x):
    net.eval()
    with torch.no_grad(): clean = net(x)
    assert torch.equal(fgsm(net, x, embedding_shift(clean), 4 / 255), x)  # zero gradient at the clean image
    assert not torch.equal(pgd(net, x, embedding_shift(clean), 4 / 255, 3), x)


def test_zero_budget_and_bad_arguments(net, x):
    assert torch.equal(pgd(net, x, embedding_shift(net.eval()(x)), 0.0), x)
    with pytest.raises(ValueError, match="norm must be 'linf' or 'l2'"): pgd(net, x, lambda e: e.sum(), 0.1, norm='l1')
    with pytest.raises(ValueError, match='steps >= 1'): pgd(net, x, lambda e: e.sum(), 0.1, steps=0)


def test_fgsm_is_one_sign_step(net, x):
    net.eval()
    with torch.no_grad(): obj = dodging(net(x).roll(1, 0))
    xa = fgsm(net, x, obj, 4 / 255)
    xg = x.clone().requires_grad_(True)
    g, = torch.autograd.grad(obj(net(xg)).sum(), xg)
    assert torch.allclose(xa, (x + 4 / 255 * g.sign()).clamp(0, 1), atol=1e-7)
    assert (g != 0).float().mean() > 0.99  # so the step really moved almost every pixel
    for p in net.parameters(): p.grad = None


def test_dodging_and_impersonation_move_the_similarity(net, x):
    net.eval()
    with torch.no_grad(): a, b = net(x[:3]), net(x[3:])
    before = (a * b).sum(1)
    down = pgd(net, x[:3], dodging(b), 8 / 255, 10)
    up = pgd(net, x[:3], impersonation(b), 8 / 255, 10)
    with torch.no_grad():
        assert ((net(down) * b).sum(1) < before).all()
        assert ((net(up) * b).sum(1) > before).all()
