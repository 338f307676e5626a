//! Stem discovery: name tokens, reels, per-channel files, joined reels and the clear errors.

use std::path::Path;

use stemscope::decode::ChannelRole;
use stemscope::discover::{self, DiscoverError, DiscoverOptions, StemKind};

fn touch(dir: &Path, names: &[&str]) {
    for n in names {
        std::fs::write(dir.join(n), b"x").unwrap();
    }
}

fn names(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn opts() -> DiscoverOptions {
    DiscoverOptions::default()
}

#[test]
fn every_token_variant_is_recognised_case_insensitively() {
    let cases = [
        ("Film_DX.wav", StemKind::Dialogue),
        ("film-dia.wav", StemKind::Dialogue),
        ("Film DIAL.flac", StemKind::Dialogue),
        ("Film.Dialog.wav", StemKind::Dialogue),
        ("Film_Dialogue_Mix.wav", StemKind::Dialogue),
        ("Film_mx.wav", StemKind::Music),
        ("Film_MUS.aif", StemKind::Music),
        ("Film_Music.ogg", StemKind::Music),
        ("Film_FX.wav", StemKind::Effects),
        ("Film_SFX.bwf", StemKind::Effects),
        ("Film_efx.rf64", StemKind::Effects),
        ("Film_Effects.mp3", StemKind::Effects),
        ("Film_PM.wav", StemKind::Printmaster),
        ("Film_Printmaster.wav", StemKind::Printmaster),
        ("Film_MIX.wav", StemKind::Printmaster),
        ("Film_FullMix.wav", StemKind::Printmaster),
    ];
    for (name, kind) in cases {
        let n = discover::parse_name(Path::new(name))
            .unwrap_or_else(|| panic!("{name} not recognised"));
        assert_eq!(n.kind, kind, "{name}");
    }
    for name in [
        "Film.wav",
        "Mixer_notes.wav",
        "DXF_export.wav",
        "Maximum.wav",
    ] {
        assert!(
            discover::parse_name(Path::new(name)).is_none(),
            "{name} should not be a stem"
        );
    }
}

#[test]
fn reel_tokens_are_read() {
    for (name, reel) in [
        ("Film_R1_DX.wav", Some(1)),
        ("Film_DX_R01.wav", Some(1)),
        ("Film_REEL3_MX.wav", Some(3)),
        ("film_r2_fx.wav", Some(2)),
        ("Film_Reel_4_DX.wav", Some(4)),
        ("Film_DX.wav", None),
    ] {
        assert_eq!(
            discover::parse_name(Path::new(name)).unwrap().reel,
            reel,
            "{name}"
        );
    }
}

#[test]
fn a_title_folder_gives_one_set_named_after_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("My Film");
    std::fs::create_dir(&dir).unwrap();
    touch(
        &dir,
        &[
            "MyFilm_DX.wav",
            "MyFilm_MX.wav",
            "MyFilm_FX.wav",
            "notes.txt",
            "MyFilm_DX.txt",
            ".MyFilm_MX.wav",
            "._MyFilm_FX.wav",
        ],
    );
    let sets = discover::discover(&dir, &opts()).unwrap();
    assert_eq!(sets.len(), 1);
    let s = &sets[0];
    assert_eq!(s.title, "My Film");
    assert_eq!(s.reel, None);
    assert_eq!(
        s.kinds(),
        vec![StemKind::Dialogue, StemKind::Music, StemKind::Effects]
    );
    assert_eq!(
        names(&s.get(StemKind::Music).unwrap().paths),
        vec!["MyFilm_MX.wav"]
    );
}

#[test]
fn reels_are_separate_sets_in_reel_order() {
    let tmp = tempfile::tempdir().unwrap();
    touch(
        tmp.path(),
        &[
            "F_R2_DX.wav",
            "F_R2_MX.wav",
            "F_R10_MX.wav",
            "F_R1_DX.wav",
            "F_R1_MX.wav",
            "F_R1_FX.wav",
        ],
    );
    let sets = discover::discover(tmp.path(), &opts()).unwrap();
    let reels: Vec<_> = sets.iter().map(|s| s.reel.clone().unwrap()).collect();
    assert_eq!(reels, vec!["R1", "R2", "R10"]);
    assert_eq!(sets[0].stems.len(), 3);
    assert_eq!(sets[2].kinds(), vec![StemKind::Music]);
    assert!(sets.iter().all(|s| s.joined_reels.is_empty()));
}

#[test]
fn joined_reels_give_one_set_listing_the_reels_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    touch(
        tmp.path(),
        &["F_R2_DX.wav", "F_R2_MX.wav", "F_R1_DX.wav", "F_R1_MX.wav"],
    );
    let o = DiscoverOptions {
        join_reels: true,
        allow_missing: false,
    };
    let sets = discover::discover(tmp.path(), &o).unwrap();
    assert_eq!(sets.len(), 1);
    let s = &sets[0];
    assert_eq!(s.joined_reels.len(), 2);
    assert_eq!(names(&s.joined_reels[0][0].paths), vec!["F_R1_DX.wav"]);
    assert_eq!(names(&s.joined_reels[1][1].paths), vec!["F_R2_MX.wav"]);
    assert_eq!(
        names(&s.get(StemKind::Dialogue).unwrap().paths),
        vec!["F_R1_DX.wav", "F_R2_DX.wav"]
    );
}

#[test]
fn per_channel_files_are_grouped_in_film_channel_order() {
    let tmp = tempfile::tempdir().unwrap();
    touch(
        tmp.path(),
        &[
            "Title_DX_Rs.wav",
            "Title_DX_L.wav",
            "Title_DX_LFE.wav",
            "Title_DX_C.wav",
            "Title_DX_Ls.wav",
            "Title_DX_R.wav",
            "DX.C.wav",
            "Title_MX.wav",
        ],
    );
    // "DX.C.wav" makes the DX group ambiguous (two centres) unless in its own folder.
    std::fs::remove_file(tmp.path().join("DX.C.wav")).unwrap();
    let sets = discover::discover(tmp.path(), &opts()).unwrap();
    let dx = sets[0].get(StemKind::Dialogue).unwrap();
    assert_eq!(
        names(&dx.paths),
        vec![
            "Title_DX_L.wav",
            "Title_DX_R.wav",
            "Title_DX_C.wav",
            "Title_DX_LFE.wav",
            "Title_DX_Ls.wav",
            "Title_DX_Rs.wav"
        ]
    );
    assert_eq!(
        discover::channel_role_of(Path::new("DX.C.wav")),
        Some(ChannelRole::Centre)
    );
    assert_eq!(
        discover::channel_role_of(Path::new("Film_MX_Lsr_R2.wav")),
        Some(ChannelRole::LeftRearSurround)
    );
    assert_eq!(
        discover::parse_name(Path::new("Film_MX_R2.wav"))
            .unwrap()
            .channel,
        None
    );
}

#[test]
fn two_files_for_one_stem_are_an_ambiguity_error_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    touch(tmp.path(), &["F_DX.wav", "F_DX.flac", "F_MX.wav"]);
    let e = discover::discover(tmp.path(), &opts()).unwrap_err();
    assert!(matches!(e, DiscoverError::Ambiguous { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("F_DX.wav") && msg.contains("F_DX.flac"),
        "{msg}"
    );
}

#[test]
fn missing_music_is_an_error_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    touch(tmp.path(), &["F_DX.wav", "F_FX.wav"]);
    let e = discover::discover(tmp.path(), &opts()).unwrap_err();
    assert!(matches!(e, DiscoverError::MissingMusic { .. }), "{e}");
    assert!(e.to_string().contains("F_DX.wav"));
    let o = DiscoverOptions {
        join_reels: false,
        allow_missing: true,
    };
    let sets = discover::discover(tmp.path(), &o).unwrap();
    assert_eq!(sets[0].kinds(), vec![StemKind::Dialogue, StemKind::Effects]);
}

#[test]
fn nonexistent_empty_and_stemless_folders_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert!(matches!(
        discover::discover(&missing, &opts()),
        Err(DiscoverError::NotFound { .. })
    ));
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        discover::discover(&empty, &opts()),
        Err(DiscoverError::EmptyFolder { .. })
    ));
    let junk = tmp.path().join("junk");
    std::fs::create_dir(&junk).unwrap();
    touch(&junk, &["readme.txt", "take1.wav", "Film_DX.pdf"]);
    let e = discover::discover(&junk, &opts()).unwrap_err();
    assert!(matches!(e, DiscoverError::NoStems { .. }));
    assert!(e.to_string().contains("junk"));
    let file = junk.join("readme.txt");
    assert!(matches!(
        discover::discover(&file, &opts()),
        Err(DiscoverError::NotAFolder { .. })
    ));
}

#[test]
fn every_stem_kind_is_found_again_by_its_report_key() {
    for kind in StemKind::ALL {
        assert_eq!(StemKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(
        StemKind::from_name("dx"),
        None,
        "report keys only, not file-name tags"
    );
}
